// Drafts: what a learner types is copied to localStorage as they type, keyed
// by who they are and what the text is for, and removed only once the server
// has confirmed the save. A reload, a crash, an ended session or an outage
// therefore costs nothing that was typed on this device.
import { useRef, useState } from 'preact/hooks';
import { useSession } from './session';

const PREFIX = 'baton.draft:';

interface Stored {
  text: string;
  /** When it was last typed (epoch ms), for whoever inspects storage. */
  at: number;
}

export function draftKey(userId: string, what: string): string {
  return `${PREFIX}${userId}:${what}`;
}

export function readDraft(key: string): string | null {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return null;
    const d = JSON.parse(raw) as Partial<Stored>;
    return typeof d.text === 'string' ? d.text : null;
  } catch {
    return null;
  }
}

/** Stores text under key; false when the browser refuses (storage off or full). */
export function writeDraft(key: string, text: string): boolean {
  try {
    localStorage.setItem(key, JSON.stringify({ text, at: Date.now() } satisfies Stored));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

/**
 * idle: nothing typed since the server's text; draft: typed and kept on this
 * device; unsaved: typed but the browser would not keep it; saved: the
 * server confirmed it.
 */
export type DraftStatus = 'idle' | 'draft' | 'unsaved' | 'saved';

export interface Draft {
  value: string;
  status: DraftStatus;
  /** The text on load came from this device, not from the server. */
  restored: boolean;
  /** What the person typed. */
  set: (text: string) => void;
  /** The server confirmed text: forget the draft unless more was typed since. */
  saved: (text: string) => void;
}

/** The quiet words for a status, for an aria-live="polite" region. */
export function draftStatusText(status: DraftStatus, restored = false): string {
  switch (status) {
    case 'draft':
      return restored ? 'Draft restored from this device, not saved yet' : 'Draft kept on this device';
    case 'unsaved':
      return 'Unsaved changes';
    case 'saved':
      return 'Saved';
    default:
      return '';
  }
}

/**
 * A text box's value with a draft behind it. what names the box ("reflection:
 * lesson/id"); serverValue is the text the server has. A stored draft that
 * differs from it is restored; one that matches it is dropped.
 */
export function useDraft(what: string, serverValue: string | null | undefined): Draft {
  const session = useSession();
  const key = session.user ? draftKey(session.user.id, what) : null;
  const server = serverValue ?? '';
  const confirmed = useRef(server);
  const [init] = useState(() => {
    const stored = key ? readDraft(key) : null;
    if (stored === null || stored === server) {
      if (key && stored !== null) clearDraft(key);
      return { value: server, restored: false };
    }
    return { value: stored, restored: true };
  });
  const [value, setValue] = useState(init.value);
  const current = useRef(init.value);
  const [status, setStatus] = useState<DraftStatus>(init.restored ? 'draft' : 'idle');
  const [restored, setRestored] = useState(init.restored);

  function set(text: string) {
    current.current = text;
    setValue(text);
    setRestored(false);
    if (text === confirmed.current) {
      if (key) clearDraft(key);
      setStatus('idle');
      return;
    }
    setStatus(key && writeDraft(key, text) ? 'draft' : 'unsaved');
  }

  function saved(text: string) {
    confirmed.current = text;
    setRestored(false);
    if (current.current === text) {
      if (key) clearDraft(key);
      setStatus('saved');
    }
  }

  return { value, status, restored, set, saved };
}

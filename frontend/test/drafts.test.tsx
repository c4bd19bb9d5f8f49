import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { _reset } from '../src/api';
import { draftKey, draftStatusText, readDraft, useDraft, type Draft } from '../src/drafts';
import { setSessionUser } from '../src/session';

let root: HTMLElement;
let draft!: Draft;

function Box({ what, server }: { what: string; server: string }) {
  draft = useDraft(what, server);
  return <textarea value={draft.value} />;
}

const mount = (what: string, server: string) => act(() => render(<Box what={what} server={server} />, root));
const unmount = () => act(() => render(null, root));

beforeEach(() => {
  _reset();
  localStorage.clear();
  setSessionUser({ id: 'u1', email: 'a@b.c', name: 'A', role: 'learner' });
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  setSessionUser(null);
});

describe('useDraft', () => {
  it('keeps what is typed on this device, by user and box, until the server confirms it', async () => {
    await mount('reflection:l1:r1', 'old');
    expect(draft.status).toBe('idle');
    await act(() => draft.set('old and new words'));
    expect(readDraft(draftKey('u1', 'reflection:l1:r1'))).toBe('old and new words');
    expect(draft.status).toBe('draft');
    expect(draftStatusText(draft.status)).toBe('Draft kept on this device');
    await act(() => draft.saved('old and new words'));
    expect(readDraft(draftKey('u1', 'reflection:l1:r1'))).toBeNull();
    expect(draft.status).toBe('saved');
  });

  it('restores a draft that differs from the server text after a reload', async () => {
    await mount('reflection:l1:r1', 'server text');
    await act(() => draft.set('typed, never saved'));
    await unmount();
    await mount('reflection:l1:r1', 'server text');
    expect(draft.value).toBe('typed, never saved');
    expect(draft.restored).toBe(true);
    expect(draft.status).toBe('draft');
    expect(root.querySelector('textarea')?.value).toBe('typed, never saved');
  });

  it('drops a stored draft the server already has', async () => {
    localStorage.setItem(draftKey('u1', 'note'), JSON.stringify({ text: 'same', at: 1 }));
    await mount('note', 'same');
    expect(draft.restored).toBe(false);
    expect(localStorage.getItem(draftKey('u1', 'note'))).toBeNull();
  });

  it('keeps the draft when more was typed while the save was under way', async () => {
    await mount('note', '');
    await act(() => draft.set('first'));
    await act(() => draft.set('first and more'));
    await act(() => draft.saved('first'));
    expect(readDraft(draftKey('u1', 'note'))).toBe('first and more');
    expect(draft.status).toBe('draft');
  });

  it('does not show one person a draft of another on the same device', async () => {
    await mount('note', '');
    await act(() => draft.set('private words'));
    await unmount();
    setSessionUser({ id: 'u2', email: 'b@b.c', name: 'B', role: 'learner' });
    await mount('note', '');
    expect(draft.value).toBe('');
    expect(readDraft(draftKey('u1', 'note'))).toBe('private words');
  });

  it('says the text is unsaved when the browser will not store it', async () => {
    await mount('note', '');
    vi.stubGlobal('localStorage', {
      getItem: () => null,
      removeItem: () => {},
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    });
    try {
      await act(() => draft.set('too much'));
    } finally {
      vi.unstubAllGlobals();
    }
    expect(draft.status).toBe('unsaved');
    expect(draftStatusText(draft.status)).toBe('Unsaved changes');
  });

  it('clears the draft when the text goes back to what the server has', async () => {
    await mount('note', 'kept');
    await act(() => draft.set('kept!'));
    await act(() => draft.set('kept'));
    expect(readDraft(draftKey('u1', 'note'))).toBeNull();
    expect(draft.status).toBe('idle');
  });
});

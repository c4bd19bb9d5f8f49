import { useState } from 'preact/hooks';
import { ApiError, errorMessage, put } from '../api';
import { draftStatusText, useDraft } from '../drafts';
import type { Reflection } from '../types';
import { formatDateTime, useId } from './ui';

export function ReflectionBox({ lesson, reflection }: { lesson: string; reflection: Reflection }) {
  const id = useId('refl');
  const draft = useDraft(`reflection:${lesson}:${reflection.id}`, reflection.body);
  const [savedAt, setSavedAt] = useState<string | null>(reflection.updated_at);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = draft.value;
    try {
      const r = await put<Reflection>(`/api/lessons/${encodeURIComponent(lesson)}/reflections/${encodeURIComponent(reflection.id)}`, { body });
      setSavedAt(r.updated_at ?? new Date().toISOString());
      draft.saved(r.body ?? body);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const status = draft.status === 'saved' || (draft.status === 'idle' && savedAt) ? `Saved ${formatDateTime(savedAt)}` : draftStatusText(draft.status, draft.restored);
  return (
    <form class="reflection-card" onSubmit={save}>
      <span class="eyebrow">Reflection</span>
      <label for={id} class="reflection-prompt">
        {reflection.prompt}
      </label>
      <p class="field-hint" id={`${id}-hint`}>
        Private: only you can read what you write here.
      </p>
      <textarea id={id} rows={5} maxLength={10000} value={draft.value} aria-describedby={`${id}-hint`} onInput={(e) => draft.set((e.currentTarget as HTMLTextAreaElement).value)} />
      <div class="reflection-actions">
        <button type="submit" class="btn btn-secondary" disabled={busy}>
          {busy ? 'Saving…' : 'Save reflection'}
        </button>
        <span class="save-status" aria-live="polite" data-testid="draft-status" data-status={draft.status}>
          {error ? (
            <>
              <span class="field-error">{errorMessage(error)}</span>
              {/* The signed-out message already says the text is kept. */}
              {!(error instanceof ApiError && error.status === 401) && status ? ` ${status}.` : ''}
            </>
          ) : (
            status
          )}
        </span>
      </div>
    </form>
  );
}

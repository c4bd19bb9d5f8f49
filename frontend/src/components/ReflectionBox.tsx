import { useState } from 'preact/hooks';
import { errorMessage, put } from '../api';
import type { Reflection } from '../types';
import { formatDateTime, useId } from './ui';

export function ReflectionBox({ lesson, reflection }: { lesson: string; reflection: Reflection }) {
  const id = useId('refl');
  const [body, setBody] = useState(reflection.body ?? '');
  const [savedAt, setSavedAt] = useState<string | null>(reflection.updated_at);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await put<Reflection>(`/api/lessons/${encodeURIComponent(lesson)}/reflections/${encodeURIComponent(reflection.id)}`, { body });
      setSavedAt(r.updated_at ?? new Date().toISOString());
      setDirty(false);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="reflection-card" onSubmit={save}>
      <span class="eyebrow">Reflection</span>
      <label for={id} class="reflection-prompt">
        {reflection.prompt}
      </label>
      <p class="field-hint" id={`${id}-hint`}>
        Private: only you can read what you write here.
      </p>
      <textarea
        id={id}
        rows={5}
        maxLength={10000}
        value={body}
        aria-describedby={`${id}-hint`}
        onInput={(e) => {
          setBody((e.currentTarget as HTMLTextAreaElement).value);
          setDirty(true);
        }}
      />
      <div class="reflection-actions">
        <button type="submit" class="btn btn-secondary" disabled={busy}>
          {busy ? 'Saving…' : 'Save reflection'}
        </button>
        <span class="save-status" aria-live="polite">
          {error ? (
            <span class="field-error">{error}</span>
          ) : savedAt && !dirty ? (
            `Saved ${formatDateTime(savedAt)}`
          ) : dirty ? (
            'Unsaved changes'
          ) : (
            ''
          )}
        </span>
      </div>
    </form>
  );
}

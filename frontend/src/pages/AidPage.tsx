import { useState } from 'preact/hooks';
import { del, put } from '../api';
import { Async, ErrorBox, useApi, useTitle } from '../components/ui';
import { draftStatusText, useDraft } from '../drafts';
import type { Aid, PracticeTask } from '../types';

/** A module's job aid as a clean page that prints on its own, with the
 * module's "try it this week" task below it (not printed). */
export function AidPage({ module }: { module: string }) {
  const res = useApi<Aid>(`/api/job-aids/${encodeURIComponent(module)}`);
  useTitle(res.data ? `Job aid: ${res.data.title}` : 'Job aid');
  return (
    <div class="page narrow aid-page">
      <Async res={res} label="Loading the job aid…">
        {(a) => (
          <>
            <nav class="breadcrumb no-print" aria-label="Breadcrumb">
              <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/modules/${a.module}`}>{a.module_title}</a>
            </nav>
            <article class="card aid-sheet" data-testid="job-aid">
              <header class="page-header">
                <p class="eyebrow">Job aid · {a.module_title}</p>
                <h1 tabIndex={-1}>{a.title}</h1>
                <p class="muted">{a.summary}</p>
              </header>
              <div class="prose" dangerouslySetInnerHTML={{ __html: a.html }} />
              <p class="print-only muted small">Baton · lead through influence, not authority</p>
            </article>
            <div class="actions no-print">
              <button type="button" class="btn btn-secondary" onClick={() => window.print()}>
                Print this sheet
              </button>
            </div>
            <PracticeCard module={a.module} initial={a.practice} />
          </>
        )}
      </Async>
    </div>
  );
}

function PracticeCard({ module, initial }: { module: string; initial: PracticeTask }) {
  const [task, setTask] = useState(initial);
  const draft = useDraft(`practice-note:${module}`, initial.note);
  const note = draft.value;
  const [shared, setShared] = useState(initial.shared);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const url = `/api/job-aids/${encodeURIComponent(module)}/practice`;
  async function markDone(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const t = await put<PracticeTask>(url, { note, shared });
      setTask(t);
      draft.saved(t.note ?? note);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function undo() {
    setBusy(true);
    setError(null);
    try {
      await del(url);
      setTask({ ...task, done: false, note: '', shared: false, done_at: null });
      draft.set('');
      draft.saved('');
      setShared(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card practice-task no-print" aria-labelledby="h-practice" data-testid="practice-task">
      <h2 id="h-practice">Try it this week</h2>
      <p>{task.task}</p>
      <form onSubmit={markDone}>
        <label for="practice-note" class="reflection-prompt">
          What you did and what happened (a few lines)
        </label>
        <textarea id="practice-note" rows={4} maxLength={2000} value={note} onInput={(e) => draft.set((e.currentTarget as HTMLTextAreaElement).value)} />
        <label class="option">
          <input type="checkbox" checked={shared} onChange={(e) => setShared((e.currentTarget as HTMLInputElement).checked)} />
          <span>Share this note with my manager</span>
        </label>
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {task.done ? 'Save the note' : 'Mark it done'}
          </button>
          {task.done && (
            <button type="button" class="btn btn-ghost" onClick={undo} disabled={busy}>
              Not done after all
            </button>
          )}
          <span class="muted small" aria-live="polite" data-testid="practice-status">
            {task.done ? `Done${task.shared ? ', shared with your manager' : ', kept to yourself'}.` : ''}
          </span>
          <span class="muted small" aria-live="polite" data-testid="draft-status" data-status={draft.status}>
            {draftStatusText(draft.status, draft.restored)}
          </span>
        </div>
      </form>
      <ErrorBox error={error} title="Could not save" />
    </section>
  );
}

import { useState } from 'preact/hooks';
import { errorMessage, post } from '../api';
import type { Check, CheckAnswer } from '../types';
import { useId } from './ui';

export function QuickCheck({ lesson, check }: { lesson: string; check: Check }) {
  const id = useId('qc');
  const [choice, setChoice] = useState<string>(check.answer?.option ?? '');
  const [answer, setAnswer] = useState<CheckAnswer | null>(check.answer ?? null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(e: Event) {
    e.preventDefault();
    if (!choice) {
      setError('Choose an answer first.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const a = await post<CheckAnswer>(`/api/lessons/${encodeURIComponent(lesson)}/checks/${encodeURIComponent(check.id)}/answers`, { option: choice });
      setAnswer(a);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const shown = answer && answer.option === choice ? answer : null;
  return (
    <form class="quick-check-card" onSubmit={submit} data-check-id={check.id}>
      <fieldset>
        <legend>
          <span class="eyebrow">Quick check</span>
          <span class="qc-question">{check.question}</span>
        </legend>
        <div class="options">
          {check.options.map((o) => (
            <label class={`option${choice === o.id ? ' selected' : ''}`} key={o.id}>
              <input
                type="radio"
                name={id}
                value={o.id}
                checked={choice === o.id}
                onChange={() => {
                  setChoice(o.id);
                  setError('');
                }}
              />
              <span>{o.text}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div class="qc-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Checking…' : answer ? 'Check again' : 'Check'}
        </button>
      </div>
      <div class="qc-feedback" aria-live="polite">
        {shown && (
          <div class={`feedback ${shown.correct ? 'feedback-correct' : 'feedback-wrong'}`}>
            <p class="feedback-title">{shown.correct ? 'Correct' : 'Not quite. Try another answer.'}</p>
            <p>{shown.feedback}</p>
          </div>
        )}
        {answer?.explanations && answer.explanations.length > 0 && (
          <details class="qc-explanations" data-testid="qc-explanations">
            <summary>
              Why each answer is right or wrong
              {answer.first_correct !== undefined && (
                <span class="muted small"> · your first answer was {answer.first_correct ? 'right' : 'not right'}, and that is what counts</span>
              )}
            </summary>
            <ul>
              {check.options.map((o) => {
                const e = answer.explanations?.find((x) => x.option === o.id);
                return e ? (
                  <li key={o.id}>
                    <strong>{e.correct ? 'Right: ' : 'Not right: '}</strong>
                    {o.text}
                    <p class="muted">{e.feedback}</p>
                  </li>
                ) : null;
              })}
            </ul>
          </details>
        )}
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </form>
  );
}

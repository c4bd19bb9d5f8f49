import { Async, Badge, useApi, useTitle } from '../components/ui';
import type { CoachingBrief } from '../types';
import './coaching.css';

type BriefVariant = CoachingBrief['variants'][number];
type BriefStep = BriefVariant['steps'][number];

/** A scenario's coaching brief for a team's manager: a clean page that
 * prints on its own, made only of the team's noisy analytics and the
 * scenario's content, so it shows no member's choice. */
export function CoachingBriefPage({ id, scenario }: { id: string; scenario: string }) {
  const res = useApi<CoachingBrief>(`/api/teams/${encodeURIComponent(id)}/coaching/${encodeURIComponent(scenario)}`);
  useTitle(res.data ? `Coaching brief: ${res.data.scenario.title}` : 'Coaching brief');
  return (
    <div class="page narrow coaching-page">
      <Async res={res} label="Loading the coaching brief…">
        {(b) => (
          <>
            <nav class="breadcrumb no-print" aria-label="Breadcrumb">
              <a href="/teams">Teams</a> <span aria-hidden="true">/</span> <a href={`/teams/${encodeURIComponent(b.team.id)}`}>{b.team.name}</a>{' '}
              <span aria-hidden="true">/</span> <span aria-current="page">Coaching brief</span>
            </nav>
            <article class="card coaching-sheet" data-testid="coaching-brief">
              <header class="page-header">
                <p class="eyebrow">Coaching brief · {b.scenario.module_title}</p>
                <h1 tabIndex={-1}>{b.scenario.title}</h1>
                <p class="meta">
                  Team {b.team.name} · scenario version <code>{b.scenario.version}</code>
                </p>
              </header>
              {b.hidden && (
                <p class="coach-hidden" role="status" data-testid="coaching-hidden">
                  {b.message}
                </p>
              )}
              <p class="noise-note">
                <strong>Shares include deliberate noise to protect individuals.</strong> Each member&rsquo;s first-attempt answer is counted
                as given only some of the time, so read the percentages as team tendencies, never as what one person did.
                {b.variants.some((v) => v.steps.some((s) => s.choices.some((c) => c.estimated_percent !== null))) &&
                  ' Where the team is large enough, “corrected” figures estimate the true share.'}
              </p>
              {b.variants.map((v) => (
                <VariantBrief key={v.variant.id} v={v} minGroup={b.min_group} />
              ))}
              <p class="print-only muted small">Baton · lead through influence, not authority</p>
            </article>
            <div class="actions no-print">
              <button type="button" class="btn btn-secondary" onClick={() => window.print()}>
                Print this brief
              </button>
            </div>
          </>
        )}
      </Async>
    </div>
  );
}

function VariantBrief({ v, minGroup }: { v: BriefVariant; minGroup: number }) {
  const hid = `h-variant-${v.variant.id}`;
  return (
    <section class="coach-variant" aria-labelledby={hid} data-testid="coaching-variant">
      <h2 id={hid}>{v.variant.title}</h2>
      <p class="meta">
        {v.members} member{v.members === 1 ? '' : 's'} finished their first attempt of this version of the situation
        {v.members_on_earlier_versions > 0 &&
          ` (${v.members_on_earlier_versions} on an earlier version of the scenario, counted against today's steps)`}
        .
      </p>
      {v.suppressed && (
        <p class="suppressed-note">
          Fewer than {minGroup} members met this situation, so no shares are shown; the recommended moves and questions come from the scenario.
        </p>
      )}
      {v.summary && (
        <p class="coach-summary" data-testid="coaching-summary">
          {v.summary}
        </p>
      )}
      {v.questions.length > 0 && (
        <>
          <h3>Questions for your one-to-ones</h3>
          <ol class="coach-questions" data-testid="coaching-questions">
            {v.questions.map((q) => (
              <li key={q}>{q}</li>
            ))}
          </ol>
        </>
      )}
      <h3>First-attempt choices, step by step</h3>
      <ol class="coach-steps">
        {v.steps.map((s) => (
          <StepBrief key={s.step_id} s={s} telling={s.step_id === v.telling_step} minGroup={minGroup} />
        ))}
      </ol>
    </section>
  );
}

function StepBrief({ s, telling, minGroup }: { s: BriefStep; telling: boolean; minGroup: number }) {
  return (
    <li class={`coach-step${telling ? ' telling' : ''}`} data-testid="coaching-step">
      <p class="coach-step-head">
        <strong>Step {s.position}</strong>
        {telling && <Badge tone="info">The step the questions are about</Badge>}
      </p>
      <p class="coach-step-text">{s.text}</p>
      {s.suppressed && <p class="suppressed-note">Fewer than {minGroup} members are counted as answering this step: no shares shown.</p>}
      <ul class="coach-choices">
        {s.choices.map((c) => (
          <li key={c.id} class={c.recommended ? 'recommended' : undefined} data-recommended={c.recommended ? 'true' : undefined}>
            <p class="coach-choice">
              {c.recommended && (
                <span class="coach-rec" data-testid="coaching-recommended">
                  Recommended move
                </span>
              )}
              {c.text}
            </p>
            {c.percent !== null && (
              <div class="coach-bar-row">
                <span class="an-bar-track" aria-hidden="true">
                  <span class={`an-bar ${c.recommended ? 'rec' : 'first'}`} style={{ width: `${c.estimated_percent ?? c.percent}%` }} />
                </span>
                <span class="coach-val">
                  {c.estimated_percent !== null ? `about ${c.estimated_percent}% (corrected)` : `${c.percent}% counted`}
                </span>
              </div>
            )}
          </li>
        ))}
      </ul>
    </li>
  );
}

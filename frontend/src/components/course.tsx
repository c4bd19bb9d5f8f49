import type { Assignment, Module } from '../types';
import { Badge, ProgressBar, Time, statusLabel } from './ui';

export function Tick({ done, label }: { done: boolean; label: string }) {
  return (
    <span class={`tick${done ? ' tick-done' : ''}`} role="img" aria-label={label}>
      {done ? (
        <svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <path d="M3.5 8.5l3 3 6-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
      ) : null}
    </span>
  );
}

export function ModuleCard({ m, assignment, headingLevel = 2 }: { m: Module; assignment?: Assignment; headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section class={`module-card card${m.completed ? ' is-complete' : ''}`} aria-labelledby={`mod-${m.slug}`}>
      <div class="module-head">
        <span class="module-num" aria-hidden="true">
          {m.position}
        </span>
        <div class="module-titles">
          <H id={`mod-${m.slug}`} class="module-title">
            <span class="visually-hidden">Module {m.position}: </span>
            <a href={`/modules/${m.slug}`}>{m.title}</a>
          </H>
          <p class="module-summary">{m.summary}</p>
        </div>
        <div class="module-badges">
          {m.completed && <Badge tone="success">Completed</Badge>}
          {assignment && !m.completed && (
            <Badge tone={assignment.overdue ? 'danger' : 'info'}>
              {assignment.overdue ? 'Overdue' : 'Due'} <Time iso={assignment.due_at} />
            </Badge>
          )}
        </div>
      </div>
      <ProgressBar value={m.percent} label={`${m.title} progress`} />
      <ul class="item-list">
        {m.lessons.map((l) => (
          <li key={l.slug} class={l.completed ? 'done' : ''}>
            <Tick done={l.completed} label={l.completed ? 'Completed' : 'Not completed'} />
            <a href={`/lessons/${l.slug}`}>{l.title}</a>
            <span class="meta">
              {!l.completed && l.percent ? `${l.percent}% · ` : ''}
              {l.minutes} min
            </span>
          </li>
        ))}
        {m.quizzes.map((qz) => (
          <li key={qz.slug} class={`scenario-row${qz.passed ? ' done' : ''}`}>
            <Tick done={qz.passed} label={qz.passed ? 'Passed' : 'Not passed yet'} />
            <a href={`/quizzes/${qz.slug}`}>
              <span class="kind">Scenario:</span> {qz.title}
            </a>
            <span class="meta">
              {qz.best_percent !== null && qz.best_percent !== undefined ? `Best ${qz.best_percent}%` : 'Not tried'}
              {qz.passed ? ' · Passed' : ''}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AssignmentList({ assignments, modules }: { assignments: Assignment[]; modules?: Module[] }) {
  if (assignments.length === 0) return <p class="empty">No assignments right now.</p>;
  const title = (a: Assignment) => a.module_title || modules?.find((m) => m.slug === a.module)?.title || a.module;
  const sorted = [...assignments].sort((a, b) => a.due_at.localeCompare(b.due_at));
  return (
    <ul class="assignment-list">
      {sorted.map((a) => (
        <li key={a.id} class={a.overdue ? 'overdue' : ''}>
          <a href={`/modules/${a.module}`}>{title(a)}</a>
          <span class="meta">
            Due <Time iso={a.due_at} withTime /> · {statusLabel(a.status)}
          </span>
          {a.overdue ? <Badge tone="danger">Overdue</Badge> : a.status === 'completed' ? <Badge tone="success">Done</Badge> : null}
        </li>
      ))}
    </ul>
  );
}

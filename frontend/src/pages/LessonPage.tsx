import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, put } from '../api';
import { QuickCheck } from '../components/QuickCheck';
import { ReflectionBox } from '../components/ReflectionBox';
import { Async, Badge, useApi, useTitle } from '../components/ui';
import type { Lesson, Module } from '../types';

export function LessonPage({ slug }: { slug: string }) {
  const res = useApi<Lesson>(`/api/lessons/${encodeURIComponent(slug)}`);
  const modules = useApi<Module[]>('/api/modules');
  useTitle(res.data?.title ?? 'Lesson');
  return (
    <div class="page lesson-page">
      <Async res={res} label="Loading the lesson…">
        {(lesson) => <LessonView key={lesson.slug} lesson={lesson} modules={modules.data} />}
      </Async>
    </div>
  );
}

/** Where the reader has got to: how much of the article has been above the bottom of the viewport. */
function readPercent(el: HTMLElement): number {
  const r = el.getBoundingClientRect();
  if (r.height <= 0) return 0;
  const seen = window.innerHeight - r.top;
  return Math.max(0, Math.min(100, Math.floor((seen / r.height) * 100)));
}

export function LessonView({ lesson, modules }: { lesson: Lesson; modules?: Module[] }) {
  const bodyRef = useRef<HTMLDivElement>(null);
  const articleRef = useRef<HTMLElement>(null);
  const endRef = useRef<HTMLDivElement>(null);
  const [shown, setShown] = useState(lesson.progress.percent);
  const [completed, setCompleted] = useState(lesson.progress.completed);
  const [saveError, setSaveError] = useState('');
  const best = useRef(lesson.progress.percent);
  const saved = useRef(lesson.progress.percent);
  const timer = useRef<number | undefined>(undefined);

  // Insert the sanitized lesson HTML (the only HTML the app inserts) and mount
  // the interactive pieces into their placeholders.
  useLayoutEffect(() => {
    const el = bodyRef.current;
    if (!el) return;
    el.innerHTML = lesson.html;
    const mounted: Element[] = [];
    el.querySelectorAll<HTMLElement>('[data-check]').forEach((ph) => {
      const check = lesson.checks?.find((c) => c.id === ph.dataset.check);
      if (!check) return;
      render(<QuickCheck lesson={lesson.slug} check={check} />, ph);
      mounted.push(ph);
    });
    el.querySelectorAll<HTMLElement>('[data-reflection]').forEach((ph) => {
      const refl = lesson.reflections?.find((r) => r.id === ph.dataset.reflection);
      if (!refl) return;
      render(<ReflectionBox lesson={lesson.slug} reflection={refl} />, ph);
      mounted.push(ph);
    });
    // Tables from Markdown can be wider than a phone: let them scroll on their own.
    el.querySelectorAll('table').forEach((t) => {
      if (t.parentElement?.classList.contains('table-wrap')) return;
      const wrap = document.createElement('div');
      wrap.className = 'table-wrap';
      wrap.tabIndex = 0;
      wrap.setAttribute('role', 'region');
      wrap.setAttribute('aria-label', 'Table');
      t.replaceWith(wrap);
      wrap.appendChild(t);
    });
    return () => {
      for (const ph of mounted) render(null, ph);
      el.innerHTML = '';
    };
  }, [lesson.slug, lesson.html]);

  // Reading progress: upward only, saved debounced; 100 at the end marker.
  useEffect(() => {
    const slug = lesson.slug;
    async function flush() {
      window.clearTimeout(timer.current);
      timer.current = undefined;
      const p = best.current;
      if (p <= saved.current) return;
      saved.current = p;
      try {
        const r = await put<{ percent: number; completed: boolean }>(`/api/lessons/${encodeURIComponent(slug)}/progress`, { percent: p });
        setSaveError('');
        if (r.completed) setCompleted(true);
      } catch (err) {
        saved.current = Math.min(saved.current, p - 1);
        setSaveError(`Your reading progress was not saved: ${errorMessage(err)}`);
      }
    }
    function bump(p: number) {
      if (p <= best.current) return;
      best.current = p;
      setShown(p);
      if (p >= 100) void flush();
      else {
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => void flush(), 800);
      }
    }
    let frame = 0;
    function onScroll() {
      if (frame) return;
      frame = window.requestAnimationFrame(() => {
        frame = 0;
        if (articleRef.current) bump(readPercent(articleRef.current));
      });
    }
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    onScroll();
    let io: IntersectionObserver | undefined;
    if (endRef.current && 'IntersectionObserver' in window) {
      io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) bump(100);
      });
      io.observe(endRef.current);
    }
    return () => {
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
      if (frame) window.cancelAnimationFrame(frame);
      io?.disconnect();
      if (timer.current !== undefined) void flush();
    };
  }, [lesson.slug]);

  const mod = modules?.find((m) => m.slug === lesson.module);
  const allLessons = modules?.flatMap((m) => m.lessons.map((l) => ({ ...l, module: m.slug }))) ?? [];
  const titleOf = (s: string) => allLessons.find((l) => l.slug === s)?.title;
  const nextInOtherModule = !!lesson.next && !!modules && allLessons.find((l) => l.slug === lesson.next)?.module !== lesson.module;
  const scenario = nextInOtherModule || !lesson.next ? mod?.quizzes[0] : undefined;
  const pct = Math.max(shown, lesson.progress.percent);

  return (
    <>
      <div class="reading-bar">
        <div class="reading-track" role="progressbar" aria-label="Reading progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
          <div class="reading-fill" style={{ width: `${pct}%` }} />
        </div>
      </div>
      <article class="lesson" ref={articleRef} aria-labelledby="lesson-title">
        <header class="lesson-header">
          <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/modules/${lesson.module}`}>{lesson.module_title || mod?.title || 'Module'}</a>
          </nav>
          <h1 id="lesson-title" tabIndex={-1}>
            {lesson.title}
          </h1>
          <p class="lesson-meta">
            <span>{lesson.minutes} min read</span>
            {completed ? <Badge tone="success">Completed</Badge> : <span>{pct}% read</span>}
          </p>
          {lesson.objective && (
            <div class="objective">
              <p class="eyebrow">Objective</p>
              <p>{lesson.objective}</p>
            </div>
          )}
        </header>
        <div class="lesson-body prose" ref={bodyRef} />
        <div ref={endRef} class="lesson-end" data-testid="lesson-end">
          <p class="end-mark" aria-live="polite">
            {completed ? 'Lesson complete. Nice work.' : 'You reached the end of the lesson.'}
          </p>
          <p class="meta">
            Take it to work: <a href={`/job-aids/${lesson.module}`}>this module's job aid</a>.
          </p>
          {saveError && (
            <p class="field-error" role="alert">
              {saveError}
            </p>
          )}
        </div>
      </article>
      {scenario && (
        <a class="continue card scenario-cta" href={`/quizzes/${scenario.slug}`}>
          <span class="eyebrow">Put it into practice</span>
          <span class="continue-title">Scenario: {scenario.title}</span>
          <span class="continue-arrow" aria-hidden="true">
            →
          </span>
        </a>
      )}
      <nav class="pager" aria-label="Lessons">
        {lesson.prev ? (
          <a href={`/lessons/${lesson.prev}`} class="pager-prev" rel="prev">
            <span class="pager-label">Previous lesson</span>
            {titleOf(lesson.prev) ?? 'Previous lesson'}
          </a>
        ) : (
          <span />
        )}
        {lesson.next && (
          <a href={`/lessons/${lesson.next}`} class="pager-next" rel="next">
            <span class="pager-label">Next lesson</span>
            {titleOf(lesson.next) ?? 'Next lesson'}
          </a>
        )}
      </nav>
    </>
  );
}

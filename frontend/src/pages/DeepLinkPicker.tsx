// The deep-linking picker: an instructor, sent here by a deep-linking launch
// from their course editor, picks Baton modules and scenarios; Baton signs
// the pick and the page form-POSTs it (as JWT) to the platform's return URL,
// a top-level navigation back into the course editor (Deep Linking 2.0).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, answerLtiDeepLink } from '../api';
import { Async, ErrorBox, Time, useApi, useRequest, useTitle } from '../components/ui';
import type { LtiContentItem, LtiDeepLink, LtiDeepLinkResponse } from '../types';

/** A module with its scenarios after it, in course order; scenarios of no listed module last. */
export interface PickerGroup {
  module: LtiContentItem | null;
  scenarios: LtiContentItem[];
}

export function courseOrder(items: LtiContentItem[]): PickerGroup[] {
  const groups: PickerGroup[] = [];
  const bySlug = new Map<string, PickerGroup>();
  for (const it of items) {
    if (it.kind !== 'module') continue;
    const g = { module: it, scenarios: [] };
    groups.push(g);
    bySlug.set(it.slug, g);
  }
  const loose: LtiContentItem[] = [];
  for (const it of items) {
    if (it.kind !== 'scenario') continue;
    const g = it.module ? bySlug.get(it.module) : undefined;
    if (g) g.scenarios.push(it);
    else loose.push(it);
  }
  if (loose.length > 0) groups.push({ module: null, scenarios: loose });
  return groups;
}

const keyOf = (it: Pick<LtiContentItem, 'kind' | 'slug'>) => `${it.kind}:${it.slug}`;

export function DeepLinkPickerPage({ id }: { id: string }) {
  useTitle('Add Baton content');
  const req = useApi<LtiDeepLink>(`/api/lti/deep-links/${encodeURIComponent(id)}`);
  const gone = req.error instanceof ApiError && req.error.status === 404;
  return (
    <div class="page narrow">
      <header class="page-header">
        <p class="eyebrow">Learning platform</p>
        <h1 tabIndex={-1} class="lti-wrap">{req.data ? `Add Baton content to ${req.data.platform}` : 'Add Baton content'}</h1>
      </header>
      {gone ? (
        <div class="alert alert-warning" role="status">
          <p>This request has expired or was answered already. Go back to your course and choose "Add content" (or the Baton tool) again.</p>
        </div>
      ) : (
        <Async res={req} label="Loading what you can add…">
          {(dl) => <Picker dl={dl} />}
        </Async>
      )}
    </div>
  );
}

function Picker({ dl }: { dl: LtiDeepLink }) {
  const [picked, setPicked] = useState<string[]>([]);
  const [local, setLocal] = useState('');
  const [answer, setAnswer] = useState<LtiDeepLinkResponse | null>(null);
  const send = useRequest();
  const groups = courseOrder(dl.items);
  const multiple = dl.accept_multiple;
  const links = dl.accept_types.includes('ltiResourceLink');

  function toggle(it: LtiContentItem, on: boolean) {
    setLocal('');
    const k = keyOf(it);
    if (!multiple) setPicked(on ? [k] : []);
    else setPicked(on ? [...picked.filter((x) => x !== k), k] : picked.filter((x) => x !== k));
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (picked.length === 0) {
      setLocal(multiple ? 'Choose at least one module or scenario.' : 'Choose a module or scenario.');
      return;
    }
    const items = picked.map((k) => {
      const [kind, ...rest] = k.split(':');
      return { kind, slug: rest.join(':') };
    });
    await send.run(async () => setAnswer(await answerLtiDeepLink(dl.id, items)));
  }

  if (!links) {
    return (
      <div class="alert alert-warning" role="status">
        <p>{dl.platform} asked for content Baton cannot give here (it accepts {dl.accept_types.join(', ') || 'nothing'}; Baton links modules and scenarios).</p>
      </div>
    );
  }
  if (answer) return <ReturnToPlatform answer={answer} platform={dl.platform} />;

  const input = multiple ? 'checkbox' : 'radio';
  const option = (it: LtiContentItem, sub: boolean) => {
    const k = keyOf(it);
    const on = picked.includes(k);
    return (
      <label class={`option lti-option${on ? ' selected' : ''}${sub ? ' lti-sub' : ''}`} key={k}>
        <input type={input} name="lti_item" value={k} checked={on} onChange={(e) => toggle(it, (e.currentTarget as HTMLInputElement).checked)} />
        <span>
          <span class="lti-kind">{it.kind === 'module' ? 'Module' : 'Scenario'}</span> {it.title}
        </span>
      </label>
    );
  };
  return (
    <form class="stack lti-picker" onSubmit={submit} noValidate>
      <p>
        {multiple ? 'Choose the modules and scenarios' : 'Choose the module or scenario'} to add to the course in {dl.platform}. A scenario's score goes to the
        course's gradebook. This request is open until <Time iso={dl.expires_at} withTime />.
      </p>
      <fieldset aria-describedby={local ? 'lti-pick-err' : undefined}>
        <legend>{multiple ? 'Modules and scenarios' : 'One module or scenario'}</legend>
        {groups.map((g) => (
          <div class="options lti-group" key={g.module?.slug ?? '-'}>
            {g.module && option(g.module, false)}
            {g.scenarios.map((s) => option(s, g.module !== null))}
          </div>
        ))}
      </fieldset>
      {local && (
        <p class="field-error" id="lti-pick-err" role="alert">
          {local}
        </p>
      )}
      <ErrorBox error={send.error} title="Could not add the content" />
      <div>
        <button type="submit" class="btn btn-primary lti-wrap" disabled={send.busy}>
          {send.busy ? 'Adding…' : `Add to ${dl.platform}`}
        </button>
      </div>
    </form>
  );
}

/** Posts the signed answer to the platform at once; the button is there if the browser did not go. */
function ReturnToPlatform({ answer, platform }: { answer: LtiDeepLinkResponse; platform: string }) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    form.current?.submit();
  }, []);
  return (
    <form ref={form} method="post" action={answer.return_url} class="stack" data-testid="lti-return">
      <input type="hidden" name="JWT" value={answer.jwt} />
      <p role="status">Taking you back to {platform}…</p>
      <div>
        <button type="submit" class="btn btn-primary lti-wrap">
          Return to {platform}
        </button>
      </div>
      <p class="small muted">If nothing happens, press the button.</p>
    </form>
  );
}

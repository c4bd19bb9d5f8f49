import { render } from 'preact';
import { refresh } from './api';
import { App } from './App';
import { installRouter } from './router';
import { setSessionUser } from './session';
import './styles.css';
import './today.css';

installRouter();
render(<App />, document.getElementById('app')!);
// The access token lives in memory only: restore it from the refresh cookie.
// That cookie is HttpOnly; the server sets a readable "baton_session" hint
// beside it, so a visitor who cannot have a session is not sent to the
// refresh route for a 401 (and a console error) on every first visit.
if (/(?:^|;\s*)baton_session=1(?:;|$)/.test(document.cookie)) {
  refresh().then((t) => {
    if (!t) setSessionUser(null);
  });
} else {
  setSessionUser(null);
}

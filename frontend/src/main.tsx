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
refresh().then((t) => {
  if (!t) setSessionUser(null);
});

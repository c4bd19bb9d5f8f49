import { render } from 'preact';
import { restoreSession } from './api';
import { App } from './App';
import { installRouter } from './router';
import './styles.css';

installRouter();
render(<App />, document.getElementById('app')!);
// The access token lives in memory only: restore it from the refresh cookie
// (skipped when this browser has never signed in, so no 401 is logged).
void restoreSession();

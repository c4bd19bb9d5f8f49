import { render } from 'preact';
import { restoreSession } from './api';
import { App } from './App';
import { installRouter } from './router';
import './styles.css';
import './today.css';

installRouter();
render(<App />, document.getElementById('app')!);
// The access token lives in memory only: restore it from the refresh cookie
// (skipped when the server's session hint cookie says none can exist, so no
// 401 is logged on a first visit).
void restoreSession();

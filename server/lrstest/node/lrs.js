// The learning record store Baton's tests send statements to: Learning
// Locker's xapi-statements service, composed as its own dist/server.js does,
// behind HTTP Basic auth with the credentials the test chose (the package's
// "test" auth accepts any token, which would prove nothing about Baton's).
// The test drives it through stdin: "stop" closes the listener and every open
// connection (an outage: connections are refused) while the statements stay
// in memory; "start" listens again on the same port. Each change is reported
// on stdout as "listening <port>" or "stopped".
'use strict';
const express = require('express');
const readline = require('readline');

const dist = 'xapi-statements/dist/';
const translatorFactory = require(dist + 'translatorFactory').default;
const serviceFactory = require(dist + 'serviceFactory').default;
const expressPresenter = require(dist + 'expressPresenter').default;
const config = require(dist + 'config').default;
const constants = require(dist + 'utils/constants');
const logger = require(dist + 'logger').default;
const tracker = require(dist + 'tracker').default;

const expected = 'Basic ' + Buffer.from(process.env.LRS_USERNAME + ':' + process.env.LRS_PASSWORD).toString('base64');
const app = express();
app.use((req, res, next) => {
  if (req.headers.authorization !== expected) {
    res.status(401).json({ message: 'wrong credentials' });
    return;
  }
  next();
});
const presenter = expressPresenter({
  llClientInfoEndpoint: config.llClientInfoEndpoint,
  customRoute: config.express.customRoute,
  customRouteText: config.express.customRouteText,
  morganDirectory: config.express.morganDirectory,
  bodyParserLimit: config.express.bodyParserLimit,
  service: serviceFactory(),
  tracker,
  translator: translatorFactory(),
  logger,
});
app.use(constants.aboutRoute, presenter.aboutRouter);
app.use(constants.fullActivitiesRoute, presenter.fullActivitiesRouter);
app.use(constants.statementsRoute, presenter.statementsRouter);

let port = Number(process.env.EXPRESS_PORT || 0);
let server = null;
const sockets = new Set();

function start() {
  if (server) return;
  server = app.listen(port, '127.0.0.1', () => {
    port = server.address().port;
    process.stdout.write('listening ' + port + '\n');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

function stop() {
  if (!server) return;
  const closing = server;
  server = null;
  closing.close(() => process.stdout.write('stopped\n'));
  for (const s of sockets) s.destroy();
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') stop();
  if (line === 'start') start();
}).on('close', () => process.exit(0));
start();

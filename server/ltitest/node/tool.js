// An independent LTI 1.3 tool (ltijs, its data in PostgreSQL through
// ltijs-sequelize) that ltitest's own tests launch from the platform
// simulator: if ltijs accepts the simulator's launches, tokens and service
// answers, the simulator speaks LTI as other implementations read it.
//
// Configuration comes as JSON in LTITEST_CONFIG: { port, db: { host (a
// socket directory or a host name), port, name, user, password }, key,
// controlToken }. The first line on stdout is {"url": ...} once listening;
// the process exits when its standard input closes.
'use strict'

const { Provider: lti } = require('ltijs')
const Database = require('ltijs-sequelize')

const config = JSON.parse(process.env.LTITEST_CONFIG)
const toolURL = `http://127.0.0.1:${config.port}`
const db = config.db

const plugin = new Database(db.name, db.user, db.password, {
  host: db.host,
  port: db.port,
  dialect: 'postgres',
  logging: false
})

lti.setup(config.key, { plugin }, {
  appRoute: '/',
  loginRoute: '/login',
  keysetRoute: '/keys',
  dynRegRoute: '/register',
  // The platform (localhost) and this tool (127.0.0.1) are different sites:
  // ltijs' state and session cookies must be SameSite=None to ride the
  // platform's cross-site form_post, and None needs Secure. Browsers (and
  // Go's cookie jar) count loopback http as a secure context, so Secure
  // cookies work here without TLS, and ltijs runs as in production: no
  // devMode, the state cookie required and checked.
  cookies: { secure: true, sameSite: 'None' },
  tokenMaxAge: 60,
  dynReg: {
    url: toolURL,
    name: 'ltijs (ltitest)',
    description: 'An independent LTI tool for the platform simulator tests',
    autoActivate: true
  }
})

// What the tool saw, for the Go test to compare with what the platform sent.
function seen (token, ltik) {
  const ctx = token.platformContext
  return {
    ltik,
    iss: token.iss,
    clientId: token.clientId,
    deploymentId: token.deploymentId,
    user: token.user,
    userInfo: token.userInfo,
    messageType: ctx.messageType,
    version: ctx.version,
    context: ctx.context,
    resource: ctx.resource,
    roles: ctx.roles,
    custom: ctx.custom,
    targetLinkUri: ctx.targetLinkUri,
    endpoint: ctx.endpoint,
    namesRoles: ctx.namesRoles,
    deepLinkingSettings: ctx.deepLinkingSettings
  }
}

lti.onConnect(async (token, req, res) => {
  res.json(seen(token, res.locals.ltik))
})

// A deep-linking launch answers at once with one resource link, in ltijs'
// self-submitting form to the platform's deep_link_return_url.
lti.onDeepLinking(async (token, req, res) => {
  const items = [{
    type: 'ltiResourceLink',
    title: 'Picked by ltijs',
    url: toolURL + '/picked',
    custom: { picked: 'yes' },
    lineItem: { scoreMaximum: 100, label: 'Picked by ltijs', resourceId: 'picked-1' }
  }]
  const form = await lti.DeepLinking.createDeepLinkingForm(token, items, { message: 'Added by ltijs' })
  res.send(form)
})

lti.onInvalidToken(async (req, res) => {
  res.status(401).json(res.locals.err)
})

// The grade of the launch's line item: ltijs gets a service token from the
// platform and posts the score.
lti.app.post('/grade', async (req, res) => {
  try {
    const token = res.locals.token
    const score = {
      userId: token.user,
      scoreGiven: Number(req.body.scoreGiven),
      scoreMaximum: 100,
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded'
    }
    let lineItem = token.platformContext.endpoint.lineitem
    if (!lineItem) {
      const items = await lti.Grade.getLineItems(token, { resourceLinkId: true })
      lineItem = items.lineItems.length > 0
        ? items.lineItems[0].id
        : (await lti.Grade.createLineItem(token, { scoreMaximum: 100, label: 'ltijs grade', resourceLinkId: token.platformContext.resource.id })).id
    }
    const answer = await lti.Grade.submitScore(token, lineItem, score)
    const results = await lti.Grade.getScores(token, lineItem, { userId: token.user })
    res.json({ lineItem, answer, results })
  } catch (err) {
    res.status(500).json({ error: String(err && err.message), body: err && err.response && err.response.body })
  }
})

lti.app.get('/members', async (req, res) => {
  try {
    res.json(await lti.NamesAndRoles.getMembers(res.locals.token))
  } catch (err) {
    res.status(500).json({ error: String(err && err.message), body: err && err.response && err.response.body })
  }
})

function control (req, res, next) {
  if (req.get('Authorization') !== 'Bearer ' + config.controlToken) return res.status(401).send('no')
  next()
}
lti.whitelist({ route: '/__ltitest/platform', method: 'post' })

// Manual registration (what an admin types into ltijs).
lti.app.post('/__ltitest/platform', control, async (req, res) => {
  try {
    const p = req.body
    await lti.registerPlatform({
      url: p.issuer,
      name: 'ltitest platform',
      clientId: p.clientId,
      authenticationEndpoint: p.authURL,
      accesstokenEndpoint: p.tokenURL,
      authConfig: { method: 'JWK_SET', key: p.jwksURL }
    })
    res.json({ ok: true })
  } catch (err) {
    res.status(500).json({ error: String(err && err.message) })
  }
})

async function main () {
  await lti.deploy({ port: config.port, silent: true })
  process.stdout.write(JSON.stringify({ url: toolURL }) + '\n')
}

process.stdin.resume()
process.stdin.on('end', async () => {
  try { await lti.close({ silent: true }) } finally { process.exit(0) }
})

main().catch(err => {
  process.stderr.write('ltitest tool: ' + (err && err.stack) + '\n')
  process.exit(1)
})

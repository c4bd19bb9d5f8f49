// Package ltitest is an LTI 1.3 platform simulator for tests: an LMS on a
// loopback port that launches a tool the way Moodle 4.x does, so a tool's
// whole redirect and form-post chain runs for real. See Start.
package ltitest

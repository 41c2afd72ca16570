// Loaded by .mocharc.docker.json before the specs: turns the engine tier on. Without it (the unit
// run also loads test/docker.test.ts, since .mocharc.json takes every test file not tagged @e2e)
// the engine suite registers nothing.
process.env.HOMELAB_DOCKER_TIER = "1";

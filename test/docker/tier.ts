// Loaded by .mocharc.docker.json before the specs: turns the engine tier on. Without it (a run that
// names test/docker.test.ts by hand; .mocharc.json and the e2e config ignore the file) the engine
// suite registers nothing.
process.env.HOMELAB_DOCKER_TIER = "1";

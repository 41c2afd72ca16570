// `homelab:services`: each entry into the model (build.ts, with the checks of upstream.ts and
// container.ts), then the rules across services (across.ts). Pure.
export * from "./upstream";
export * from "./container";
export * from "./build";
export * from "./across";

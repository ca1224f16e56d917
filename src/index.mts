// The ESM entry of esem-bridge: the CommonJS build (index.ts) re-exported,
// so `import` and `require()` share one implementation: the same classes
// (instanceof holds across both) and one default bridge.
export * from "./index.js";

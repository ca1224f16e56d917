// The one command that builds the native addon where no prebuilt binary
// matches (esem build-addon, src/build-addon.ts). Kept apart so that naming
// it loads nothing.
export const BUILD_COMMAND = "npx esem build-addon";

// `node --import esem-bridge/register app.js`: enables `python:` imports.
// The hooks (loader.mts) run on Node's hooks thread but need each module's
// public names: they ask this thread over a port, which loads the module on
// the default bridge, the one the generated module then uses, so the
// module's top level runs once (in subprocess mode a bridge of the hooks
// thread's own would be a second worker process, running it a second time).
//
// The answer must never wait for the hooks thread: it is busy in the load
// hook that asked, and until that hook returns Node's hooks thread may serve
// no other request from here, so a module load started on the way (a dynamic
// import) can wait for good and both threads hang. Hence the static import
// below, done before register(): answering loads no module.
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";
import { python } from "./index.mjs";

interface NamesRequest {
  id: number;
  spec: string;
}

const { port1, port2 } = new MessageChannel();
port1.on("message", ({ id, spec }: NamesRequest) => {
  port1.postMessage({ id, ack: true });
  Promise.resolve()
    .then(() => python(spec))
    .then(
      (mod) => port1.postMessage({ id, names: Object.keys(mod) }),
      () => port1.postMessage({ id, names: [] }), // the importing module reports the real error
    );
});
port1.unref(); // answering the hooks never keeps Node alive

register("./loader.mjs", { parentURL: import.meta.url, data: { namesPort: port2 }, transferList: [port2] });

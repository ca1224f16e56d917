// `node --import esem-bridge/register app.js`: enables `python:` imports.
import { register } from "node:module";

register("./loader.js", import.meta.url);

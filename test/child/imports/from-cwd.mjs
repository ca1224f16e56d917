// Child script: a `python:` file spec that is not beside this file falls
// back to the current folder (run with the repository as cwd), as 0.1 read it.
import { add } from "python:./test/fixtures/calculator.py";

console.log(await add(40, 2));

"""A long task that reports its progress to a JS callback."""

import time


def long_task(steps, report, seconds_per_step=0.05):
    done = 0
    for i in range(steps):
        time.sleep(seconds_per_step)  # the work
        done += 1
        report(done, steps)  # runs the JS function on the JS thread
    return "finished %d steps" % done

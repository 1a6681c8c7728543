#!/usr/bin/env python3
"""Loads pages in headless Chromium over the Chrome DevTools Protocol and reports every JavaScript
dialog (alert, confirm, prompt, beforeunload) that opens on each: the dashboard tests' check that
no script smuggled in through a job name or an output ever runs.

usage: cdp_dialogs.py CHROMIUM USER_DATA_DIR PAGES.json

PAGES.json holds a list of {"url": URL, "until": JS or null}. Each URL is opened in a new tab; the
script waits (with a deadline) for the load event, then for the page's network to go idle, then,
when "until" is given, for that JavaScript expression to be true in the page (polled). A dialog
that opens meanwhile is recorded and accepted, so that the page goes on. Prints one JSON document:
[{"url": URL, "dialogs": [{"type": "alert", "message": "1"}, ...]}, ...]. Exits 0 when every page
loaded, 2 (with a one-line reason on stderr) when one did not within its deadline or Chromium
failed.

Chromium is driven through --remote-debugging-pipe (file descriptors 3 and 4, messages ended by
NUL): no port, no port file to wait for, and no connection another process could make.
"""

import fcntl
import json
import os
import select
import subprocess
import sys
import time

DEADLINE = 30.0  # seconds per page, for each of: load, network idle, the "until" condition


class Failure(Exception):
    pass


class Browser:
    def __init__(self, chromium, user_data_dir):
        # Our ends and Chromium's, kept away from 3 and 4 so that dup2 in the child cannot clobber them.
        to_chrome_read, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_write = os.pipe()
        child_read = fcntl.fcntl(to_chrome_read, fcntl.F_DUPFD_CLOEXEC, 10)
        child_write = fcntl.fcntl(from_chrome_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_read)
        os.close(from_chrome_write)

        def pipes_as_3_and_4():
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        self.process = subprocess.Popen(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--remote-debugging-pipe", "--user-data-dir=" + user_data_dir,
                "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=pipes_as_3_and_4,
        )
        os.close(child_read)
        os.close(child_write)
        self.buffer = b""
        self.next_id = 0
        self.events = []  # events not yet looked at, in order
        self.dialogs = {}  # session id -> dialogs seen

    def close(self):
        try:
            os.close(self.to_chrome)
        except OSError:
            pass
        self.process.kill()
        self.process.wait()

    def _receive(self, deadline):
        """One message, waiting at most until deadline (time.monotonic())."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for Chromium")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            data = os.read(self.from_chrome, 1 << 16)
            if not data:
                raise Failure("Chromium closed the DevTools pipe (exit status %s)" % self.process.poll())
            self.buffer += data
        message, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            session = message.get("sessionId")
            params = message["params"]
            self.dialogs.setdefault(session, []).append({"type": params.get("type"), "message": params.get("message")})
            # Accept it, or the page stays blocked on it.
            self._send("Page.handleJavaScriptDialog", {"accept": True}, session)
        return message

    def _send(self, method, params, session):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        return self.next_id

    def call(self, method, params=None, session=None, deadline=None):
        """Sends a command and returns its result; events that arrive meanwhile are kept."""
        deadline = deadline or time.monotonic() + DEADLINE
        ident = self._send(method, params or {}, session)
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise Failure("%s: %s" % (method, message["error"].get("message")))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, session, matches, what):
        """Waits for an event of `session` for which `matches(message)` holds."""
        deadline = time.monotonic() + DEADLINE
        while True:
            for index, message in enumerate(self.events):
                if message.get("sessionId") == session and matches(message):
                    del self.events[index]
                    return message
            try:
                message = self._receive(deadline)
            except Failure as error:
                raise Failure("%s: %s" % (what, error))
            if "method" in message:
                self.events.append(message)

    def load(self, url, until):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self.call("Page.enable", session=session)
            self.call("Page.setLifecycleEventsEnabled", {"enabled": True}, session=session)
            self.events = [event for event in self.events if event.get("sessionId") != session]
            navigation = self.call("Page.navigate", {"url": url}, session=session)
            if navigation.get("errorText"):
                raise Failure("%s: %s" % (url, navigation["errorText"]))
            frame = navigation["frameId"]
            self.wait_event(session, lambda m: m["method"] == "Page.loadEventFired", url + ": the load event")

            def idle(message):
                params = message.get("params", {})
                return (message["method"] == "Page.lifecycleEvent" and params.get("frameId") == frame
                        and params.get("name") == "networkIdle")

            self.wait_event(session, idle, url + ": network idle")
            if until:
                deadline = time.monotonic() + DEADLINE
                while True:
                    # A round trip through the page's event loop each time: its tasks (and any
                    # dialog they open) come first.
                    result = self.call(
                        "Runtime.evaluate",
                        {"expression": "new Promise(r => setTimeout(() => r(Boolean(%s)), 0))" % until,
                         "awaitPromise": True, "returnByValue": True},
                        session=session, deadline=deadline)
                    if result.get("result", {}).get("value") is True:
                        break
                    if time.monotonic() > deadline:
                        raise Failure("%s: %s never became true" % (url, until))
                    ready, _, _ = select.select([self.from_chrome], [], [], 0.1)
                    if ready:
                        self.events.append(self._receive(deadline))
            else:
                # One round trip through the page's event loop, so that what the page queued runs.
                self.call("Runtime.evaluate",
                          {"expression": "new Promise(r => setTimeout(r, 0))", "awaitPromise": True},
                          session=session)
            return self.dialogs.get(session, [])
        finally:
            self.call("Target.closeTarget", {"targetId": target})


def main():
    if len(sys.argv) != 4:
        print("usage: cdp_dialogs.py CHROMIUM USER_DATA_DIR PAGES.json", file=sys.stderr)
        return 2
    with open(sys.argv[3]) as file:
        pages = json.load(file)
    browser = Browser(sys.argv[1], sys.argv[2])
    try:
        report = [{"url": page["url"], "dialogs": browser.load(page["url"], page.get("until"))} for page in pages]
    except Failure as error:
        print("cdp_dialogs: %s" % error, file=sys.stderr)
        return 2
    finally:
        browser.close()
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

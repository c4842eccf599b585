// Reads an iCalendar file on stdin with ical.js (a real client parser) and prints JSON:
// the calendar's properties and, per VEVENT, the instants ical.js computes. Recurring events
// are expanded with their exceptions (RECURRENCE-ID) related, the way a client shows them.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.resolve(process.env.BRUG_JS_DIR || ".", "package.json"));
const ICAL = require("ical.js");

const text = readFileSync(0, "utf8");
const root = new ICAL.Component(ICAL.parse(text));
const iso = (t) => (t ? t.toJSDate().toISOString() : null);

const calendar = {};
for (const prop of root.getAllProperties()) {
  calendar[prop.name] = String(prop.getFirstValue());
}

const vevents = root.getAllSubcomponents("vevent");
const exceptions = new Map();
for (const c of vevents) {
  if (c.hasProperty("recurrence-id")) {
    const uid = c.getFirstPropertyValue("uid");
    if (!exceptions.has(uid)) exceptions.set(uid, []);
    exceptions.get(uid).push(c);
  }
}

const events = vevents.map((c) => {
  const event = new ICAL.Event(c);
  const start = c.getFirstPropertyValue("dtstart");
  const out = {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    url: c.getFirstPropertyValue("url"),
    status: c.getFirstPropertyValue("status"),
    sequence: event.sequence,
    dtstamp: iso(c.getFirstPropertyValue("dtstamp")),
    recurrence_id: c.hasProperty("recurrence-id") ? iso(event.recurrenceId) : null,
    is_date: start.isDate,
    start_local: start.toString(),
    start: iso(event.startDate),
    end: iso(event.endDate),
    tzid: c.getFirstProperty("dtstart").getParameter("tzid") || null,
    occurrences: [],
  };
  if (event.isRecurring() && !c.hasProperty("recurrence-id")) {
    for (const ex of exceptions.get(event.uid) || []) event.relateException(ex);
    const it = event.iterator();
    let next;
    let n = 0;
    while ((next = it.next()) && n < 500) {
      const details = event.getOccurrenceDetails(next);
      out.occurrences.push({
        recurrence_id: iso(details.recurrenceId),
        start: iso(details.startDate),
        end: iso(details.endDate),
        status: details.item.component.getFirstPropertyValue("status"),
      });
      n += 1;
    }
  }
  return out;
});

process.stdout.write(JSON.stringify({ calendar, events }));

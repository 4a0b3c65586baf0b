import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * MQTT topic filters (OASIS MQTT 3.1.1 §4.7, MQTT 5.0 §4.7–4.8). Pure functions: the link dispatches each message
 * only to the handlers whose own filter matches, since one connection carries many overlapping subscriptions.
 */

/** Throws a ConfigInvalid PortierError when `filter` is not a valid subscription filter. */
export function validateFilter(filter: string): void {
  const bad = (why: string) => new PortierError(ErrorCode.ConfigInvalid, `bad MQTT topic filter "${filter}": ${why}`);
  if (filter.length === 0) throw bad('empty');
  if (filter.includes('\u0000')) throw bad('contains NUL');
  const part = matchPart(filter);
  if (part.length === 0) throw bad('shared subscription without a filter');
  const levels = part.split('/');
  levels.forEach((level, i) => {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) throw bad('# must be a whole, last level');
    if (level.includes('+') && level !== '+') throw bad('+ must be a whole level');
  });
}

/** Throws a ConfigInvalid PortierError when `topic` is not a valid topic name to publish to. */
export function validateTopic(topic: string): void {
  if (topic.length === 0 || /[+#]/.test(topic) || topic.includes('\u0000')) {
    throw new PortierError(ErrorCode.ConfigInvalid, `bad MQTT topic "${topic}": empty or contains +, # or NUL`);
  }
}

/**
 * True when `topic` matches `filter`. `+` matches one level, `#` the rest (including the parent level itself:
 * `a/#` matches `a`). A filter that starts with a wildcard does not match topics starting with `$` (§4.7.2).
 * A shared subscription `$share/<group>/<filter>` matches as its `<filter>`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  return filterMatcher(filter)(topic.split('/'), topic.startsWith('$'));
}

/**
 * {@link topicMatches} for one filter, split once, taking the topic already split into levels and whether it
 * starts with `$`: a link matches every incoming message against each of its filters.
 */
export function filterMatcher(filter: string): (levels: readonly string[], dollar: boolean) => boolean {
  const f = matchPart(filter);
  const wildFirst = f.startsWith('+') || f.startsWith('#');
  const fl = f.split('/');
  return (tl, dollar) => {
    if (wildFirst && dollar) return false;
    for (let i = 0; i < fl.length; i++) {
      const level = fl[i];
      if (level === '#') return true;
      if (i >= tl.length) return false;
      if (level !== '+' && level !== tl[i]) return false;
    }
    return fl.length === tl.length;
  };
}

/** The part of a filter that topics are matched against (without a `$share/<group>/` prefix). */
function matchPart(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? '' : rest.slice(slash + 1);
}

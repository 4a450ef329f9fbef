// The call-flow document as the editor knows it (docs/flows.md,
// docs/flows.schema.json): step types, their exits, new steps, summaries,
// and the order of a step's fields when it is saved. The server's check is
// the final word; nothing here refuses a document.

export const TYPES = [
  'play', 'disclosure', 'schedule', 'geo', 'source', 'menu',
  'dial', 'whisper', 'voicemail', 'tag', 'set', 'hangup',
];

export const TYPE_LABELS = {
  play: 'Play',
  disclosure: 'Disclosure',
  schedule: 'Schedule',
  geo: 'Geo',
  source: 'Source',
  menu: 'Menu',
  dial: 'Dial',
  whisper: 'Whisper',
  voicemail: 'Voicemail',
  tag: 'Tag',
  set: 'Set',
  hangup: 'Hang up',
};

export const TYPE_HINTS = {
  play: 'Plays a prompt',
  disclosure: 'Recording notice',
  schedule: 'Open, closed or holiday',
  geo: "By the caller's region",
  source: "By the call's attribution",
  menu: 'Press a key',
  dial: 'Rings people or phones',
  whisper: 'Said to the agent',
  voicemail: 'Takes a message',
  tag: 'Tags the call',
  set: 'Value, lead, fields',
  hangup: 'Ends the call',
};

export const MENU_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const GEO_CONDITIONS = ['country', 'region', 'area_code'];
export const SOURCE_CONDITIONS = [
  'channel', 'source', 'medium', 'campaign', 'keyword', 'confidence',
  'landing_page', 'number_name',
];
export const CONFIDENCES = ['exact', 'grace', 'shared', 'none', 'fixed'];

export const DEFAULTS = {
  disclosure: 'This call may be recorded for quality and training purposes.',
  invalid: 'Sorry, that is not one of the choices.',
  greeting: 'Please leave a message after the tone, and we will call you back.',
};

// The fields each type reads, in the order a saved step lists them.
const TYPE_FIELDS = {
  play: ['prompt'],
  disclosure: ['prompt', 'when', 'regions'],
  schedule: ['timezone', 'hours', 'dates'],
  geo: ['rules'],
  source: ['rules'],
  menu: ['prompt', 'invalid_prompt', 'timeout_s', 'retries'],
  dial: ['strategy', 'timeout_s', 'caller_id', 'targets'],
  whisper: ['text', 'accept'],
  voicemail: ['greeting', 'beep', 'max_s'],
  tag: ['tags'],
  set: ['value', 'lead', 'fields'],
  hangup: [],
};

export const STEP_W = 200;
export const GRID = 10;

export function ruleExits(step) {
  const rules = Array.isArray(step.rules) ? step.rules : [];
  return rules.map((r) => r && r.exit).filter((e) => typeof e === 'string' && e !== '');
}

// The exit names a step's type has, in the order its ports are drawn.
export function exitNames(step) {
  switch (step.type) {
    case 'schedule': return ['open', 'closed', 'holiday'];
    case 'geo':
    case 'source': return [...new Set(ruleExits(step).filter((e) => e !== 'other')), 'other'];
    case 'menu': return [...MENU_KEYS, 'timeout', 'invalid'];
    case 'dial': return ['answered', 'no_answer', 'busy', 'failed'];
    case 'hangup': return [];
    default: return ['next'];
  }
}

// The ports of a step: its type's exits, then any other exit the document
// names (the server refuses those; they are drawn so they can be removed).
export function portNames(step) {
  const names = exitNames(step);
  const exits = isObject(step.exits) ? step.exits : {};
  for (const k of Object.keys(exits)) if (!names.includes(k)) names.push(k);
  return names;
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// A new step of a type, filled so that it reads sensibly straight away.
export function newStep(type, id, x, y) {
  const s = { id, type };
  switch (type) {
    case 'play':
      s.prompt = { text: 'Thank you for calling.' };
      break;
    case 'schedule':
      s.hours = {};
      for (const d of DAYS.slice(0, 5)) s.hours[d] = [['09:00', '17:00']];
      break;
    case 'geo':
      s.rules = [{ exit: 'us', country: ['US'] }];
      break;
    case 'source':
      s.rules = [{ exit: 'paid', channel: ['paid_search'] }];
      break;
    case 'menu':
      s.prompt = { text: 'For sales, press 1. For support, press 2.' };
      break;
    case 'dial':
      s.targets = [];
      break;
    case 'whisper':
      s.text = 'Call from {source}, campaign {campaign}.';
      break;
    case 'tag':
      s.tags = ['lead'];
      break;
    case 'set':
      s.lead = 'qualified';
      break;
    default:
      break;
  }
  if (type !== 'hangup') s.exits = {};
  s.x = x;
  s.y = y;
  return s;
}

// The first free id of the form <type><n>.
export function freeId(doc, type) {
  const taken = new Set(doc.steps.map((s) => s.id));
  for (let n = 1; ; n++) {
    const id = `${type}${n}`;
    if (!taken.has(id)) return id;
  }
}

export const ID_RE = /^[A-Za-z0-9_-]{1,47}$/;

function promptText(p, fallback) {
  if (!isObject(p)) return fallback;
  if (typeof p.text === 'string') return p.text;
  if (p.audio_id !== undefined) return `audio file ${p.audio_id}`;
  return fallback;
}

function ranges(day) {
  if (!Array.isArray(day) || day.length === 0) return 'closed';
  return day.map((r) => (Array.isArray(r) ? `${r[0]}-${r[1]}` : '?')).join(', ');
}

function targetText(t) {
  if (!isObject(t)) return '?';
  if (t.uri !== undefined) return String(t.uri);
  if (t.number !== undefined) return String(t.number);
  if (t.user_id !== undefined) return `user ${t.user_id}`;
  return '?';
}

// One line about a step, for its box.
export function summary(s) {
  switch (s.type) {
    case 'play': return promptText(s.prompt, '(no prompt)');
    case 'disclosure':
      return s.when === 'two_party'
        ? `Two-party consent regions${Array.isArray(s.regions) ? ` (${s.regions.length})` : ''}`
        : 'Every call hears it';
    case 'schedule': {
      const h = isObject(s.hours) ? s.hours : {};
      const open = DAYS.filter((d) => Array.isArray(h[d]) && h[d].length > 0);
      const tz = s.timezone || 'account time zone';
      return `${open.length ? open.map((d) => d[0].toUpperCase() + d.slice(1)).join(' ') : 'closed'} · ${tz}`;
    }
    case 'geo':
    case 'source': {
      const n = Array.isArray(s.rules) ? s.rules.length : 0;
      return `${n} rule${n === 1 ? '' : 's'}: ${ruleExits(s).join(', ') || 'none'}`;
    }
    case 'menu': return promptText(s.prompt, '(no prompt)');
    case 'dial': {
      const t = Array.isArray(s.targets) ? s.targets : [];
      if (t.length === 0) return 'No targets';
      const who = t.slice(0, 2).map(targetText).join(', ') + (t.length > 2 ? ` +${t.length - 2}` : '');
      return `${s.strategy || 'simultaneous'}: ${who}`;
    }
    case 'whisper': return `${s.text || ''}${s.accept ? ' (press 1)' : ''}`;
    case 'voicemail': return `${promptText(s.greeting, 'Default greeting')} · up to ${s.max_s || 120} s`;
    case 'tag': return Array.isArray(s.tags) ? s.tags.join(', ') : '';
    case 'set': {
      const parts = [];
      if (s.value !== undefined) parts.push(`value ${s.value}`);
      if (s.lead) parts.push(s.lead);
      if (isObject(s.fields)) {
        const n = Object.keys(s.fields).length;
        parts.push(`${n} field${n === 1 ? '' : 's'}`);
      }
      return parts.join(' · ') || 'Nothing to set';
    }
    case 'hangup': return 'Ends the call';
    default: return '';
  }
}

export { ranges as dayText };

// The step with its fields in a steady order (id, type, label, the type's
// fields, exits, x, y); fields the type does not have stay, at the end, so
// that the server names them.
export function orderedStep(s) {
  const out = {};
  const known = ['id', 'type', 'label', ...(TYPE_FIELDS[s.type] || []), 'exits', 'x', 'y'];
  for (const k of known) if (s[k] !== undefined) out[k] = s[k];
  for (const k of Object.keys(s)) if (!(k in out)) out[k] = s[k];
  if (isObject(out.exits) && Object.keys(out.exits).length === 0 &&
      s.type !== 'menu') delete out.exits;
  return out;
}

export function orderedDoc(doc) {
  return { format: doc.format, start: doc.start, steps: doc.steps.map(orderedStep) };
}

// Places steps that have no position: columns by distance from the start.
export function layout(doc) {
  const byId = new Map(doc.steps.map((s) => [s.id, s]));
  const depth = new Map();
  const queue = [];
  if (byId.has(doc.start)) {
    depth.set(doc.start, 0);
    queue.push(doc.start);
  }
  while (queue.length) {
    const id = queue.shift();
    const s = byId.get(id);
    for (const to of Object.values(isObject(s.exits) ? s.exits : {})) {
      if (typeof to === 'string' && byId.has(to) && !depth.has(to)) {
        depth.set(to, depth.get(id) + 1);
        queue.push(to);
      }
    }
  }
  const rows = new Map();
  let maxDepth = 0;
  for (const d of depth.values()) maxDepth = Math.max(maxDepth, d);
  for (const s of doc.steps) {
    if (typeof s.x === 'number' && typeof s.y === 'number') continue;
    const d = depth.has(s.id) ? depth.get(s.id) : maxDepth + 1;
    const row = rows.get(d) || 0;
    rows.set(d, row + 1);
    s.x = 40 + row * (STEP_W + 40);
    s.y = 40 + d * 170;
  }
}

// The call-flow editor: steps as boxes on a canvas, exits as ports at the
// bottom of each box, connectors drawn in SVG. A box is moved by dragging
// it (or with the arrow keys); an exit is connected by dragging from its
// port onto a box (or with the exit's list in the side panel). The server
// checks the document as it changes (POST /v1/flows/validate) and on save
// (PATCH /v1/flows/{id}, a new version); its problems are drawn on the
// steps they name.

import { api, errorText } from '../api.js';
import { h, svg } from './dom.js';
import {
  GRID, ID_RE, STEP_W, TYPES, TYPE_HINTS, TYPE_LABELS, exitNames, freeId, isObject, layout,
  newStep, orderedDoc, portNames, summary,
} from './model.js';
import { Panel } from './panel.js';
import { Simulator } from './simulate.js';

const snap = (v) => Math.max(0, Math.round(v / GRID) * GRID);

function emptyProblems() {
  return { doc: [], steps: new Map(), warnings: new Map(), allWarnings: [], count: 0 };
}

function curve(a, b) {
  const c = Math.max(30, Math.abs(b.y - a.y) / 2);
  return `M ${a.x} ${a.y} C ${a.x} ${a.y + c}, ${b.x} ${b.y - c}, ${b.x} ${b.y}`;
}

export class FlowEditor {
  // root: the section to draw in; id: the flow; version: a version to
  // open read-only (null: the latest, editable).
  constructor(root, { id, version }) {
    this.root = root;
    this.id = id;
    this.version = version || null;
    this.flow = null;
    this.doc = null;
    this.readOnly = true;
    this.sel = null;
    this.selEdge = null;
    this.problems = emptyProblems();
    this.dirty = false;
    this.changeSeq = 0;
    this.vSeq = 0;
    this.vTimer = null;
    this.saving = false;
    this.tab = 'settings';
    this.path = null;
    this.boxes = new Map();
    this.sigs = new WeakMap();
    this.build();
  }

  get hash() {
    return this.version ? `#/flows/${this.id}/v/${this.version}` : `#/flows/${this.id}`;
  }

  // ---- the frame --------------------------------------------------------

  build() {
    const button = (id, text, onclick, cls) => h('button', { type: 'button', id, class: cls, onclick }, text);
    this.titleEl = h('h1', { class: 'fe-title' }, 'Call flow');
    this.verEl = h('span', { class: 'fe-ver' });
    this.checkEl = h('span', { class: 'fe-check', role: 'status', 'aria-live': 'polite' });
    this.saveEl = h('span', { class: 'fe-saved', role: 'status', 'aria-live': 'polite' });
    this.saveBtn = button('fe-save', 'Save', () => this.save(), 'primary');
    this.checkBtn = button('fe-check-now', 'Check', () => this.validate(), 'secondary');
    this.copyBtn = button('fe-edit-copy', 'Edit from this version', () => this.editCopy(), 'secondary');
    this.latestLink = h('a', { href: `#/flows/${this.id}`, class: 'fe-latest' }, 'Open the latest');
    this.toolbar = h('div', { class: 'fe-toolbar' },
      h('a', { href: '#/flows', class: 'fe-back' }, '← Flows'),
      this.titleEl, this.verEl,
      h('span', { class: 'fe-statuses' }, this.checkEl, this.saveEl),
      h('span', { class: 'fe-spacer' }),
      this.latestLink, this.copyBtn, this.checkBtn, this.saveBtn);
    this.banner = h('div', { class: 'fe-banner', role: 'alert', hidden: true });

    this.palette = h('nav', { class: 'fe-palette', 'aria-label': 'Add a step' },
      h('h2', {}, 'Add a step'),
      TYPES.map((t) => h('button', {
        type: 'button', class: `fe-add t-${t}`, 'data-type': t, title: TYPE_HINTS[t],
        onclick: () => this.addStep(t),
      }, TYPE_LABELS[t])));

    this.edgeLayer = svg('g', { class: 'fe-edge-layer' });
    const defs = svg('defs');
    for (const [name, cls] of [['fe-arrow', 'line'], ['fe-arrow-sel', 'sel'], ['fe-arrow-path', 'path']]) {
      const m = svg('marker', {
        id: name, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9,
        markerUnits: 'userSpaceOnUse',
        orient: 'auto-start-reverse', class: `fe-marker ${cls}`,
      });
      m.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
      defs.append(m);
    }
    this.edgesSvg = svg('svg', { class: 'fe-edges', 'aria-hidden': 'true' });
    this.edgesSvg.append(defs, this.edgeLayer);
    this.dragLine = svg('path', { class: 'fe-drag-line', d: '' });
    this.overlay = svg('svg', { class: 'fe-overlay', 'aria-hidden': 'true' });
    this.overlay.append(this.dragLine);
    this.stage = h('div', { class: 'fe-stage' }, this.edgesSvg, this.overlay);
    this.note = h('div', { class: 'fe-note' }, 'Loading the flow…');
    this.canvas = h('div', {
      class: 'fe-canvas', tabindex: -1, role: 'application',
      'aria-label': 'Flow canvas: Tab moves between steps',
    }, this.stage, this.note);

    this.tabs = h('div', { class: 'fe-tabs', role: 'tablist' },
      [['settings', 'Settings'], ['versions', 'Versions'], ['simulate', 'Simulate']].map(([k, label]) =>
        h('button', { type: 'button', role: 'tab', 'data-tab': k, id: `fe-tab-${k}`, onclick: () => this.showTab(k) }, label)));
    this.panelEl = h('div', { class: 'fe-panel' });
    this.side = h('aside', { class: 'fe-side', 'aria-label': 'Step settings' }, this.tabs, this.panelEl);
    this.panel = new Panel(this, this.panelEl);
    this.sim = new Simulator(this);

    this.root.replaceChildren(this.toolbar, this.banner,
      h('div', { class: 'fe-body' }, this.palette, this.canvas, this.side));

    this.stage.addEventListener('pointerdown', (e) => this.pointerDown(e));
    this.stage.addEventListener('click', (e) => this.edgeClick(e));
    this.stage.addEventListener('focusin', (e) => {
      const box = e.target.closest('.fe-step');
      if (box && box.dataset.stepId !== this.sel) this.select(box.dataset.stepId);
    });
    this.canvas.addEventListener('keydown', (e) => this.canvasKey(e));
    this.root.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        if (!this.readOnly) this.save();
      }
    });
    this.refreshChrome();
  }

  refreshChrome() {
    const loaded = Boolean(this.doc);
    this.root.classList.toggle('fe-readonly', this.readOnly);
    this.palette.hidden = this.readOnly || !loaded;
    this.saveBtn.hidden = this.readOnly || !loaded;
    this.checkBtn.hidden = this.readOnly || !loaded;
    this.copyBtn.hidden = !this.readOnly || !loaded;
    this.latestLink.hidden = !this.readOnly || !loaded;
    if (this.flow) {
      this.titleEl.textContent = this.flow.name;
      this.verEl.textContent = this.readOnly
        ? `version ${this.flow.version} of ${this.flow.latest_version} · read-only`
        : `version ${this.flow.latest_version}`;
    }
    for (const b of this.tabs.children) {
      b.setAttribute('aria-selected', String(b.dataset.tab === this.tab));
      b.disabled = !loaded;
    }
  }

  // ---- loading ----------------------------------------------------------

  async load() {
    this.note.hidden = false;
    this.note.className = 'fe-note';
    this.note.textContent = 'Loading the flow…';
    const q = this.version ? `?version=${this.version}` : '';
    const res = await api('GET', `/v1/flows/${this.id}${q}`);
    if (res.status === 401) return;
    if (res.status !== 200 || !res.data || !isObject(res.data.flow)) {
      this.note.className = 'fe-note error';
      this.note.replaceChildren(
        h('p', {}, errorText(res, 'The flow cannot be opened')),
        h('button', { type: 'button', onclick: () => this.load() }, 'Try again'));
      return;
    }
    this.flow = res.data;
    this.doc = res.data.flow;
    if (!Array.isArray(this.doc.steps)) this.doc.steps = [];
    // an older version is shown read-only; the latest is edited
    this.readOnly = Boolean(this.version) && this.version !== res.data.latest_version;
    if (!this.readOnly && this.version) {
      this.version = null;
      history.replaceState(null, '', this.hash);
    }
    layout(this.doc);
    this.note.hidden = true;
    this.refreshChrome();
    this.renderBoxes();
    this.showTab('settings');
    this.setSaveStatus(this.readOnly ? '' : `Saved version ${this.flow.latest_version}`);
    if (!this.readOnly) this.validate();
  }

  // ---- drawing ----------------------------------------------------------

  stepById(id) {
    return this.doc.steps.find((s) => s.id === id) || null;
  }

  selectedStep() {
    return this.sel ? this.stepById(this.sel) : null;
  }

  renderBoxes() {
    // A drag in progress keeps its elements; it redraws when it ends.
    if (this.dragging) {
      this.redrawAfterDrag = true;
      return;
    }
    const seen = new Set();
    for (const s of this.doc.steps) {
      if (typeof s.id !== 'string' || seen.has(s.id)) continue;
      let el = this.boxes.get(s.id);
      if (!el) {
        el = h('div', { tabindex: 0, role: 'group', 'aria-roledescription': 'step', 'data-step-id': s.id });
        this.stage.append(el);
        this.boxes.set(s.id, el);
      }
      this.fillBox(el, s);
      seen.add(s.id);
    }
    for (const [id, el] of this.boxes) {
      if (!seen.has(id)) {
        el.remove();
        this.boxes.delete(id);
      }
    }
    this.sizeStage();
    this.renderEdges();
  }

  fillBox(el, s) {
    const errs = this.problems.steps.get(s.id) || [];
    const warns = this.problems.warnings.get(s.id) || [];
    const start = this.doc.start === s.id;
    const hops = this.path ? this.path.steps.get(s.id) : null;
    const exits = isObject(s.exits) ? s.exits : {};
    el.className = ['fe-step', `t-${s.type}`, start && 'start', this.sel === s.id && 'selected',
      errs.length && 'bad', warns.length && 'warn', hops && 'onpath'].filter(Boolean).join(' ');
    el.dataset.type = s.type;
    el.style.left = `${Number.isFinite(s.x) ? s.x : 0}px`;
    el.style.top = `${Number.isFinite(s.y) ? s.y : 0}px`;
    el.style.width = `${STEP_W}px`;
    el.setAttribute('aria-label', `${s.id}, ${TYPE_LABELS[s.type] || s.type} step` +
      `${start ? ', calls start here' : ''}${errs.length ? `, ${errs.length} problem${errs.length === 1 ? '' : 's'}` : ''}`);
    // The contents are rebuilt only when they change, so that a port or
    // head under the pointer stays the same element.
    const edge = this.selEdge && this.selEdge.from === s.id ? this.selEdge.exit : null;
    const sig = JSON.stringify([s, errs, warns, start, hops, edge, this.readOnly]);
    if (this.sigs.get(el) === sig) return;
    this.sigs.set(el, sig);
    const ports = portNames(s);
    const known = new Set(exitNames(s));
    el.replaceChildren(...[
      h('div', { class: 'fe-step-head' },
        h('span', { class: 'fe-type' }, TYPE_LABELS[s.type] || s.type),
        h('span', { class: 'fe-id' }, s.id),
        start ? h('span', { class: 'fe-start-badge', title: 'Calls start here' }, 'Start') : null,
        hops ? h('span', { class: 'fe-hops', title: 'Simulated path' }, hops.join(' ')) : null),
      s.label ? h('div', { class: 'fe-label-line' }, s.label) : null,
      h('div', { class: 'fe-sum' }, summary(s)),
      errs.length || warns.length
        ? h('ul', { class: 'fe-msgs' },
          errs.map((p) => h('li', { class: 'bad' }, p.message)),
          warns.map((w) => h('li', { class: 'warn' }, w.message)))
        : null,
      ports.length
        ? h('div', { class: 'fe-ports' }, ports.map((name) => {
          const to = exits[name];
          const cls = ['fe-port', to !== undefined && 'on', to === null && 'end',
            !known.has(name) && 'unknown',
            this.selEdge && this.selEdge.from === s.id && this.selEdge.exit === name && 'sel'];
          return h('span', {
            class: cls.filter(Boolean).join(' '), 'data-exit': name,
            title: `${name}: ${to === undefined ? 'not connected' : to === null ? 'ends the call' : `to ${to}`}` +
              `${this.readOnly ? '' : ' (drag onto a step to connect)'}`,
          }, name);
        }))
        : null,
    ].filter(Boolean));
  }

  sizeStage() {
    let w = 0;
    let hgt = 0;
    for (const s of this.doc.steps) {
      const el = this.boxes.get(s.id);
      if (!el) continue;
      w = Math.max(w, el.offsetLeft + el.offsetWidth);
      hgt = Math.max(hgt, el.offsetTop + el.offsetHeight);
    }
    // room to drag a box further out
    w = Math.max(w + 120, this.canvas.clientWidth);
    hgt = Math.max(hgt + 120, this.canvas.clientHeight);
    this.stage.style.width = `${w}px`;
    this.stage.style.height = `${hgt}px`;
    for (const el of [this.edgesSvg, this.overlay]) {
      el.setAttribute('width', w);
      el.setAttribute('height', hgt);
    }
  }

  portPoint(box, exit) {
    const port = box.querySelector(`.fe-port[data-exit="${CSS.escape(exit)}"]`);
    if (!port) return { x: box.offsetLeft + box.offsetWidth / 2, y: box.offsetTop + box.offsetHeight };
    return {
      x: box.offsetLeft + port.offsetLeft + port.offsetWidth / 2,
      y: box.offsetTop + port.offsetTop + port.offsetHeight,
    };
  }

  renderEdges() {
    this.edgeLayer.replaceChildren();
    for (const s of this.doc.steps) {
      const from = this.boxes.get(s.id);
      if (!from || !isObject(s.exits)) continue;
      for (const [exit, to] of Object.entries(s.exits)) {
        const target = typeof to === 'string' ? this.boxes.get(to) : null;
        if (!target) continue;
        const a = this.portPoint(from, exit);
        const b = { x: target.offsetLeft + target.offsetWidth / 2, y: target.offsetTop };
        const d = curve(a, b);
        const sel = this.selEdge && this.selEdge.from === s.id && this.selEdge.exit === exit;
        const onPath = this.path && this.path.edges.has(`${s.id}\u0000${exit}`);
        const g = svg('g', {
          class: `fe-edge${sel ? ' sel' : ''}${onPath ? ' path' : ''}`,
          'data-from': s.id, 'data-exit': exit, 'data-to': to,
        });
        const title = svg('title');
        title.textContent = `${s.id} · ${exit} → ${to}`;
        g.append(title, svg('path', { d, class: 'hit' }),
          svg('path', {
            d, class: 'line',
            'marker-end': `url(#${sel ? 'fe-arrow-sel' : onPath ? 'fe-arrow-path' : 'fe-arrow'})`,
          }));
        this.edgeLayer.append(g);
      }
    }
  }

  // ---- pointer ----------------------------------------------------------

  stagePoint(e) {
    const r = this.stage.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  pointerDown(e) {
    if (e.button !== 0 || !this.doc) return;
    const box = e.target.closest('.fe-step');
    const port = e.target.closest('.fe-port');
    if (box && port && !this.readOnly) {
      this.startConnect(e, box, port);
    } else if (box) {
      this.startMove(e, box);
    } else if (!e.target.closest('.fe-edge')) {
      this.select(null);
    }
  }

  startMove(e, box) {
    const s = this.stepById(box.dataset.stepId);
    if (!s) return;
    if (this.sel !== s.id) this.select(s.id);
    const p0 = { x: e.clientX, y: e.clientY, sx: s.x, sy: s.y };
    let moved = false;
    box.setPointerCapture(e.pointerId);
    this.dragging = true;
    const move = (ev) => {
      const dx = ev.clientX - p0.x;
      const dy = ev.clientY - p0.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      moved = true;
      if (this.readOnly) return;
      box.classList.add('dragging');
      s.x = snap(p0.sx + dx);
      s.y = snap(p0.sy + dy);
      box.style.left = `${s.x}px`;
      box.style.top = `${s.y}px`;
      this.renderEdges();
    };
    const up = () => {
      box.removeEventListener('pointermove', move);
      box.removeEventListener('pointerup', up);
      box.removeEventListener('pointercancel', up);
      box.classList.remove('dragging');
      this.endDrag();
      if (moved && !this.readOnly && (s.x !== p0.sx || s.y !== p0.sy)) {
        this.touched();
        this.sizeStage();
      }
    };
    box.addEventListener('pointermove', move);
    box.addEventListener('pointerup', up);
    box.addEventListener('pointercancel', up);
  }

  startConnect(e, box, port) {
    e.preventDefault();
    const from = box.dataset.stepId;
    const exit = port.dataset.exit;
    const a = this.portPoint(box, exit);
    let moved = false;
    let over = null;
    const stage = this.stage;
    stage.setPointerCapture(e.pointerId);
    this.dragging = true;
    const hit = (ev) => {
      const el = document.elementFromPoint(ev.clientX, ev.clientY);
      return el && el.closest ? el.closest('.fe-stage .fe-step') : null;
    };
    const move = (ev) => {
      moved = true;
      this.dragLine.setAttribute('d', curve(a, this.stagePoint(ev)));
      const now = hit(ev);
      if (now !== over) {
        if (over) over.classList.remove('drop');
        if (now) now.classList.add('drop');
        over = now;
      }
    };
    const up = (ev) => {
      stage.removeEventListener('pointermove', move);
      stage.removeEventListener('pointerup', up);
      stage.removeEventListener('pointercancel', up);
      this.endDrag();
      this.dragLine.setAttribute('d', '');
      if (over) over.classList.remove('drop');
      const target = ev.type === 'pointerup' ? hit(ev) : null;
      if (moved && target) {
        this.setExit(from, exit, target.dataset.stepId);
      } else if (!moved) {
        // a click on a port: its exit in the panel
        this.select(from);
        const sel = this.panelEl.querySelector(`select[data-exit="${CSS.escape(exit)}"]`);
        if (sel) sel.focus();
      }
    };
    stage.addEventListener('pointermove', move);
    stage.addEventListener('pointerup', up);
    stage.addEventListener('pointercancel', up);
  }

  endDrag() {
    this.dragging = false;
    if (this.redrawAfterDrag) {
      this.redrawAfterDrag = false;
      this.renderBoxes();
    }
  }

  edgeClick(e) {
    const g = e.target.closest && e.target.closest('.fe-edge');
    if (!g) return;
    this.selectEdge(g.dataset.from, g.dataset.exit);
  }

  selectEdge(from, exit) {
    this.flushPanel();
    this.sel = from;
    this.selEdge = { from, exit };
    this.tab = 'settings';
    this.refreshChrome();
    this.renderBoxes();
    this.panel.render();
    this.canvas.focus({ preventScroll: true });
    this.setSaveStatus(this.readOnly ? '' : `Connector ${from} · ${exit} selected: Delete removes it.`, 'info');
  }

  canvasKey(e) {
    if (!this.doc) return;
    const box = e.target.closest && e.target.closest('.fe-step');
    if (e.key === 'Delete' || e.key === 'Backspace') {
      if (this.readOnly) return;
      if (this.selEdge && (!box || box.dataset.stepId === this.selEdge.from)) {
        e.preventDefault();
        const { from, exit } = this.selEdge;
        this.setExit(from, exit, undefined);
        this.canvas.focus({ preventScroll: true });
      } else if (box) {
        e.preventDefault();
        this.removeStep(box.dataset.stepId);
      }
    } else if (box && e.key.startsWith('Arrow')) {
      e.preventDefault();
      if (this.readOnly) return;
      const s = this.stepById(box.dataset.stepId);
      const d = e.shiftKey ? 1 : GRID;
      const dx = { ArrowLeft: -d, ArrowRight: d }[e.key] || 0;
      const dy = { ArrowUp: -d, ArrowDown: d }[e.key] || 0;
      s.x = Math.max(0, Math.round(s.x + dx));
      s.y = Math.max(0, Math.round(s.y + dy));
      box.style.left = `${s.x}px`;
      box.style.top = `${s.y}px`;
      this.renderEdges();
      this.sizeStage();
      this.touched();
    } else if (box && e.key === 'Enter') {
      e.preventDefault();
      this.showTab('settings');
      const first = this.panelEl.querySelector('input:not([disabled]), select:not([disabled]), textarea:not([disabled])');
      if (first) first.focus();
    } else if (e.key === 'Escape') {
      this.select(null);
      this.canvas.focus({ preventScroll: true });
    }
  }

  // ---- selection and tabs -----------------------------------------------

  // A field of the panel that is still being typed in (an id, a rule's
  // exit) is applied before the panel shows something else: blur fires
  // its change.
  flushPanel() {
    const a = document.activeElement;
    if (a && a !== document.body && this.panelEl.contains(a)) a.blur();
  }

  select(id, focus) {
    this.flushPanel();
    this.sel = id && this.stepById(id) ? id : null;
    this.selEdge = null;
    this.tab = 'settings';
    this.refreshChrome();
    for (const s of this.doc.steps) {
      const el = this.boxes.get(s.id);
      if (el) this.fillBox(el, s);
    }
    this.renderEdges();
    this.panel.render();
    if (focus && this.sel) {
      const el = this.boxes.get(this.sel);
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }

  showTab(tab) {
    this.flushPanel();
    this.tab = tab;
    this.refreshChrome();
    if (tab === 'settings') this.panel.render();
    else if (tab === 'versions') this.renderVersions();
    else this.sim.render(this.panelEl);
  }

  // ---- changes ----------------------------------------------------------

  // A change of the document's meaning: redraw, mark unsaved, check soon.
  changed() {
    this.changeSeq++;
    this.dirty = true;
    this.path = null;
    this.renderBoxes();
    this.scheduleValidate();
    this.setSaveStatus('Unsaved changes', 'dirty');
  }

  // A change of position only: nothing to check.
  touched() {
    this.changeSeq++;
    this.dirty = true;
    this.setSaveStatus('Unsaved changes', 'dirty');
  }

  // From the panel: a field of step changed; opts.panel redraws the panel
  // (a row added or removed), opts.focus then focuses that selector.
  edited(step, opts = {}) {
    this.changed();
    if (opts.panel) {
      this.panel.render();
      if (opts.focus) {
        const el = this.panelEl.querySelector(opts.focus);
        if (el) el.focus();
      }
    }
  }

  addStep(type) {
    if (this.readOnly) return;
    const id = freeId(this.doc, type);
    let x;
    let y;
    const from = this.selectedStep() && this.boxes.get(this.sel);
    if (from) {
      x = snap(from.offsetLeft);
      y = snap(from.offsetTop + from.offsetHeight + 60);
    } else {
      x = snap(this.canvas.scrollLeft + 40);
      y = snap(this.canvas.scrollTop + 40);
    }
    // not on top of another step
    const taken = (px, py) => this.doc.steps.some((s) => Math.abs(s.x - px) < STEP_W && Math.abs(s.y - py) < 60);
    for (let i = 0; i < 50 && taken(x, y); i++) x += STEP_W + 40;
    const s = newStep(type, id, x, y);
    this.doc.steps.push(s);
    if (!this.stepById(this.doc.start)) this.doc.start = id;
    this.changed();
    this.select(id, true);
  }

  removeStep(id) {
    const i = this.doc.steps.findIndex((s) => s.id === id);
    if (i < 0 || this.readOnly) return;
    this.doc.steps.splice(i, 1);
    for (const s of this.doc.steps) {
      if (!isObject(s.exits)) continue;
      for (const [k, v] of Object.entries(s.exits)) if (v === id) delete s.exits[k];
    }
    if (this.doc.start === id) this.doc.start = this.doc.steps.length ? this.doc.steps[0].id : '';
    this.problems.steps.delete(id);
    this.problems.warnings.delete(id);
    this.sel = null;
    this.selEdge = null;
    this.changed();
    this.select(null);
    this.canvas.focus({ preventScroll: true });
  }

  // Returns a message when newId cannot be used.
  renameStep(oldId, newId) {
    if (newId === oldId) return null;
    if (!ID_RE.test(newId)) return 'An id is 1 to 47 letters, digits, _ or -.';
    if (this.stepById(newId)) return `Another step has the id '${newId}'.`;
    const s = this.stepById(oldId);
    s.id = newId;
    for (const o of this.doc.steps) {
      if (!isObject(o.exits)) continue;
      for (const [k, v] of Object.entries(o.exits)) if (v === oldId) o.exits[k] = newId;
    }
    if (this.doc.start === oldId) this.doc.start = newId;
    for (const m of [this.problems.steps, this.problems.warnings]) {
      if (m.has(oldId)) {
        m.set(newId, m.get(oldId));
        m.delete(oldId);
      }
    }
    this.sel = newId;
    this.changed();
    this.panel.render();
    return null;
  }

  setStart(id) {
    if (this.readOnly || !this.stepById(id)) return;
    this.doc.start = id;
    this.changed();
    this.panel.render();
  }

  // to: a step id, null (the call ends), or undefined (not connected).
  setExit(from, exit, to) {
    const s = this.stepById(from);
    if (!s || this.readOnly) return;
    if (!isObject(s.exits)) s.exits = {};
    if (to === undefined) delete s.exits[exit];
    else s.exits[exit] = to;
    if (this.selEdge && this.selEdge.from === from && this.selEdge.exit === exit) this.selEdge = null;
    this.changed();
    if (this.sel === from && this.tab === 'settings') this.panel.render();
  }

  editCopy() {
    this.readOnly = false;
    const from = this.flow.version;
    this.version = null;
    this.flow.version = this.flow.latest_version;
    history.replaceState(null, '', this.hash);
    this.refreshChrome();
    this.changed();
    this.showTab('settings');
    this.setSaveStatus(`Editing from version ${from}: saving makes version ${this.flow.latest_version + 1}`, 'dirty');
  }

  // ---- checking and saving ----------------------------------------------

  scheduleValidate() {
    clearTimeout(this.vTimer);
    if (this.readOnly) return;
    this.setCheck('Checking…', 'pending');
    this.vTimer = setTimeout(() => this.validate(), 400);
  }

  async validate() {
    clearTimeout(this.vTimer);
    if (this.readOnly || !this.doc) return;
    const seq = ++this.vSeq;
    this.setCheck('Checking…', 'pending');
    const res = await api('POST', '/v1/flows/validate', { flow: orderedDoc(this.doc) });
    if (seq !== this.vSeq) return;
    if (res.status === 200) {
      this.setProblems([], (res.data && res.data.warnings) || []);
    } else if (res.status === 422 && res.data && res.data.error && res.data.error.code === 'invalid_flow') {
      this.setProblems(res.data.error.problems || [], res.data.error.warnings || []);
    } else if (res.status !== 401) {
      this.setCheck(errorText(res, 'Cannot check the flow'), 'bad');
    }
  }

  setProblems(problems, warnings) {
    const p = emptyProblems();
    for (const x of problems) {
      if (x.step && this.stepById(x.step)) {
        if (!p.steps.has(x.step)) p.steps.set(x.step, []);
        p.steps.get(x.step).push(x);
      } else {
        p.doc.push(x.step ? { ...x, field: `${x.step}${x.field ? `.${x.field}` : ''}` } : x);
      }
    }
    for (const w of warnings) {
      if (w.step && this.stepById(w.step)) {
        if (!p.warnings.has(w.step)) p.warnings.set(w.step, []);
        p.warnings.get(w.step).push(w);
      }
      p.allWarnings.push(w);
    }
    p.count = problems.length;
    this.problems = p;
    this.renderBoxes();
    if (this.tab === 'settings') this.panel.decorate();
    this.banner.hidden = p.doc.length === 0;
    this.banner.replaceChildren(...(p.doc.length ? [
      h('strong', {}, 'The flow has problems:'),
      h('ul', {}, p.doc.map((x) => h('li', {}, x.field ? `${x.field}: ` : '', x.message))),
    ] : []));
    const n = problems.length;
    const nw = warnings.length;
    const parts = [];
    if (n) parts.push(`${n} problem${n === 1 ? '' : 's'}`);
    if (nw) parts.push(`${nw} warning${nw === 1 ? '' : 's'}`);
    this.setCheck(parts.length ? parts.join(' · ') : 'No problems', n ? 'bad' : nw ? 'warn' : 'ok');
  }

  setCheck(text, kind) {
    this.checkEl.textContent = text;
    this.checkEl.className = `fe-check ${kind || ''}`;
  }

  setSaveStatus(text, kind) {
    this.saveEl.textContent = text;
    this.saveEl.className = `fe-saved ${kind || ''}`;
  }

  async save() {
    if (this.saving || this.readOnly || !this.doc) return;
    this.saving = true;
    this.saveBtn.disabled = true;
    clearTimeout(this.vTimer);
    this.vSeq++;
    this.setSaveStatus('Saving…', 'pending');
    const seq = this.changeSeq;
    const res = await api('PATCH', `/v1/flows/${this.id}`, { flow: orderedDoc(this.doc) });
    this.saving = false;
    this.saveBtn.disabled = false;
    if (res.status === 200 && res.data) {
      this.flow.version = res.data.version;
      this.flow.latest_version = res.data.version;
      this.flow.name = res.data.name;
      this.dirty = this.changeSeq !== seq;
      this.refreshChrome();
      this.setProblems([], res.data.warnings || []);
      this.setSaveStatus(`Saved version ${res.data.version}`, 'ok');
      if (this.tab === 'versions') this.renderVersions();
      if (this.dirty) this.scheduleValidate();
    } else if (res.status === 422 && res.data && res.data.error && res.data.error.code === 'invalid_flow') {
      const n = (res.data.error.problems || []).length;
      this.setProblems(res.data.error.problems || [], res.data.error.warnings || []);
      this.setSaveStatus(`Not saved: ${n} problem${n === 1 ? '' : 's'} to fix`, 'bad');
    } else if (res.status !== 401) {
      this.setSaveStatus(errorText(res, 'Not saved'), 'bad');
    }
  }

  // ---- versions ---------------------------------------------------------

  async renderVersions() {
    const el = this.panelEl;
    el.replaceChildren(h('h2', {}, 'Versions'), h('p', { class: 'fe-hint' }, 'Loading the versions…'));
    const res = await api('GET', `/v1/flows/${this.id}/versions`);
    if (this.tab !== 'versions') return;
    if (res.status !== 200 || !res.data) {
      el.replaceChildren(h('h2', {}, 'Versions'), h('p', { class: 'error' }, errorText(res, 'Cannot list the versions')));
      return;
    }
    const list = res.data.data || [];
    const latest = list.length ? list[0].version : 0;
    const shown = this.readOnly ? this.flow.version : latest;
    el.replaceChildren(
      h('h2', {}, 'Versions'),
      h('p', { class: 'fe-hint' }, 'Each save is a new version; older ones open read-only.'),
      list.length === 0 ? h('p', { class: 'fe-hint' }, 'No versions.') : h('ol', { class: 'fe-versions', reversed: true },
        list.map((v) => h('li', { class: v.version === shown ? 'current' : '', 'data-version': v.version },
          h('a', { href: v.version === latest ? `#/flows/${this.id}` : `#/flows/${this.id}/v/${v.version}` },
            `Version ${v.version}`),
          v.version === latest ? h('span', { class: 'fe-tag' }, 'latest') : null,
          h('span', { class: 'fe-hint' }, ` ${new Date(v.created_at).toLocaleString()}` +
            ` · ${v.created_by === null ? 'an API key' : `user ${v.created_by}`}`)))));
  }

  // ---- simulation -------------------------------------------------------

  // path: the simulate answer's path, or null to clear.
  showPath(path) {
    if (!path) {
      this.path = null;
    } else {
      const steps = new Map();
      const edges = new Set();
      path.forEach((hop, i) => {
        if (!steps.has(hop.step)) steps.set(hop.step, []);
        steps.get(hop.step).push(i + 1);
        if (hop.exit && i + 1 < path.length) edges.add(`${hop.step}\u0000${hop.exit}`);
      });
      this.path = { steps, edges };
    }
    this.renderBoxes();
  }
}

// A marker [n] opens its answer's sources when they are folded, then shows the cited sentence;
// it (and a source's "open") also opens the whole document in the viewer beside the chat,
// fetched from the REST API, the quote marked and scrolled into view (a PDF: its page as an
// image with the quote boxed, the text a toggle away). Document text is only ever set as text
// (textContent), never parsed as HTML.
// Given to Gradio as the page's script (launch(js=...)): a function run once on load.
() => {
    const api = '/api/v1/documents/';
    let cites = [], at = 0;
    function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined) e.textContent = text;
        return e;
    }
    let shown = null;  // the document in the viewer: {id, doc}
    async function show(i) {
        const box = document.getElementById('viewer');
        if (!box || !cites.length) return;
        at = (i + cites.length) % cites.length;
        const link = cites[at], id = link.dataset.doc;
        const start = +link.dataset.start, end = +link.dataset.end, page = link.dataset.page;
        const head = box.querySelector('.viewer-title'), body = box.querySelector('.viewer-body');
        const res = await fetch(api + encodeURIComponent(id));
        if (!res.ok) { head.textContent = 'The document could not be opened.'; return; }
        const doc = await res.json();
        shown = {id: id, doc: doc};
        head.textContent = (doc.title || doc.source) + ' (' + doc.source
            + (page ? ', page ' + page : '') + ') · citation ' + (at + 1) + ' of ' + cites.length;
        body.replaceChildren();
        const text = el('div', 'viewer-text');
        const mark = el('mark', '', doc.text.slice(start, end));
        mark.id = 'viewer-mark';
        text.append(doc.text.slice(0, start), mark, doc.text.slice(end));
        if (page && doc.source.toLowerCase().endsWith('.pdf')) {
            const img = el('img', 'viewer-page');
            img.alt = 'page ' + page;
            img.src = api + encodeURIComponent(id) + '/pages/' + page + '.png?start=' + start
                + '&end=' + end;
            const toggle = el('details', 'viewer-toggle');
            toggle.append(el('summary', '', 'Show the text'), text);
            body.append(img, toggle);
        } else {
            body.append(text);
        }
        box.classList.add('open');
        body.scrollTop = Math.max(0, mark.offsetTop - body.clientHeight / 2);
    }
    const post = (url, body) => fetch(url, {method: body === undefined ? 'GET' : 'POST',
        headers: {'content-type': 'application/json'},
        body: body === undefined ? undefined : JSON.stringify(body)});
    let marking = null;  // the grade bar waiting for the sentence that answers
    async function grade(bar, kind, span) {
        const status = bar.querySelector('.grade-status');
        const body = {question: bar.dataset.question, grade: kind};
        if (span) Object.assign(body, span);
        const res = await post('/api/v1/feedback', body);
        const out = await res.json();
        status.textContent = res.ok ? 'added to the eval set (' + out.total + ' questions)'
            : (out.error || 'not added');
        bar.dataset.graded = res.ok ? kind : '';
    }
    function caretOffset(container, x, y) {
        const r = document.caretRangeFromPoint ? document.caretRangeFromPoint(x, y) : null;
        if (!r || !container.contains(r.startContainer)) return -1;
        const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
        let offset = 0, node;
        while ((node = walker.nextNode())) {
            if (node === r.startContainer) return offset + r.startOffset;
            offset += node.textContent.length;
        }
        return -1;
    }
    async function renderSet() {
        const panel = document.getElementById('eval-panel');
        const list = panel.querySelector('.eval-list');
        const res = await post('/api/v1/feedback');
        const data = await res.json();
        const table = el('table');
        const head = el('tr');
        ['id', 'question', 'expected', ''].forEach((h) => head.append(el('th', '', h)));
        table.append(head);
        for (const q of data.questions || []) {
            const row = el('tr');
            const quote = q.answerable ? q.expected.map((e) => e.quote).join(' / ')
                : '(not in the sources)';
            row.append(el('td', '', q.id), el('td', '', q.question), el('td', '', quote));
            const cell = el('td');
            const remove = el('button', 'eval-remove', 'remove');
            remove.dataset.qid = q.id;
            cell.append(remove);
            row.append(cell);
            table.append(row);
        }
        list.replaceChildren(el('div', '', (data.questions || []).length
            + ' graded questions in ' + data.path), table);
    }
    async function runSet() {
        const panel = document.getElementById('eval-panel');
        const out = panel.querySelector('.eval-result');
        out.replaceChildren(el('div', '', 'Running…'));
        const res = await post('/api/v1/feedback/evaluate', {});
        const data = await res.json();
        if (!res.ok) { out.replaceChildren(el('div', '', data.error || 'failed')); return; }
        const last = JSON.parse(localStorage.getItem('rag-last-eval') || 'null');
        const table = el('table', 'eval-metrics');
        const head = el('tr');
        ['metric', 'this run', 'last run', 'change'].forEach((h) => head.append(el('th', '', h)));
        table.append(head);
        for (const m of ['hit@5', 'mrr@10', 'answer_supported', 'citation_precision',
                         'abstain_recall']) {
            if (!(m in data.metrics)) continue;
            const v = data.metrics[m], before = last && last[m];
            const row = el('tr');
            row.append(el('td', '', m), el('td', '', v.toFixed(3)),
                       el('td', '', before === undefined || before === null ? '–'
                           : before.toFixed(3)),
                       el('td', '', before === undefined || before === null ? '–'
                           : (v - before >= 0 ? '+' : '') + (v - before).toFixed(3)));
            table.append(row);
        }
        localStorage.setItem('rag-last-eval', JSON.stringify(data.metrics));
        const fails = el('table', 'eval-failures');
        const fh = el('tr');
        ['question', 'expected', 'cited'].forEach((h) => fh.append(el('th', '', h)));
        fails.append(fh);
        for (const f of data.failures) {
            const row = el('tr');
            row.append(el('td', '', f.question), el('td', '', f.expected.join(' / ') || '(none)'),
                       el('td', '', f.abstained ? '(abstained)' : f.cited.join(' / ')));
            fails.append(row);
        }
        out.replaceChildren(el('div', '', data.questions + ' questions, '
            + data.failures.length + ' failed'), table, fails);
    }
    // Marking the sentence that answers: in the document shown, or in any other one found by
    // its title or words (the answer may be in a file the answer never cited).
    function markHere(bar) {
        const box = document.getElementById('viewer');
        const toggle = box.querySelector('details.viewer-toggle');
        if (toggle) toggle.open = true;
        box.classList.add('marking');
        marking = bar;
        box.querySelector('.viewer-title').textContent =
            'Click the sentence that answers: ' + bar.dataset.question;
        bar.querySelector('.grade-status').textContent = 'click the sentence in the viewer';
    }
    async function findDocuments(query) {
        const box = document.getElementById('viewer');
        const out = box.querySelector('.viewer-found');
        const words = query.trim().toLowerCase();
        if (!words) { out.replaceChildren(); return; }
        const listed = await (await post('/api/v1/documents?limit=500')).json();
        const found = new Map();
        for (const d of listed.documents || []) {
            if (!d.error && ((d.title || '').toLowerCase().includes(words)
                             || d.source.toLowerCase().includes(words))) found.set(d.id, d);
        }
        const res = await post('/api/v1/search', {query: query, k: 10});
        if (res.ok) {
            const byId = new Map((listed.documents || []).map((d) => [d.id, d]));
            for (const h of await res.json()) {
                const d = byId.get(h.passage.doc_id);
                if (d) found.set(d.id, d);
            }
        }
        const buttons = [...found.values()].slice(0, 10).map((d) => {
            const b = el('button', 'viewer-doc', (d.title || d.source) + ' (' + d.source + ')');
            b.dataset.doc = d.id;
            return b;
        });
        out.replaceChildren(buttons.length ? el('span', '', 'Open: ')
                            : el('span', '', 'No document found.'), ...buttons);
    }
    document.addEventListener('keydown', (event) => {
        const input = event.target.closest && event.target.closest('#viewer .viewer-find input');
        if (input && event.key === 'Enter') { event.preventDefault(); findDocuments(input.value); }
    }, true);
    document.addEventListener('click', async (event) => {
        const t = event.target;
        if (!t.closest) return;
        if (t.closest('#eval-refresh')) { renderSet(); return; }
        if (t.closest('#eval-run')) { runSet(); return; }
        const rm = t.closest('button.eval-remove');
        if (rm) {
            await fetch('/api/v1/feedback/' + encodeURIComponent(rm.dataset.qid),
                        {method: 'DELETE'});
            renderSet();
            return;
        }
        const gbtn = t.closest('.grade button.grade-btn');
        if (gbtn) {
            const bar = gbtn.closest('.grade'), kind = gbtn.dataset.grade;
            if (kind !== 'wrong') {
                const span = kind === 'right' ? {doc_id: bar.dataset.doc,
                    start: +bar.dataset.start, end: +bar.dataset.end} : null;
                grade(bar, kind, span);
                return;
            }
            // Wrong: open the cited (or closest) document and wait for a sentence.
            const link = el('a');
            link.dataset.doc = bar.dataset.doc || bar.dataset.nearDoc;
            link.dataset.start = bar.dataset.start || bar.dataset.nearStart;
            link.dataset.end = bar.dataset.end || bar.dataset.nearEnd;
            if (bar.dataset.page) link.dataset.page = bar.dataset.page;
            cites = [link];
            await show(0);
            const box = document.getElementById('viewer');
            const toggle = box.querySelector('details.viewer-toggle');
            if (toggle) toggle.open = true;
            markHere(bar);
            return;
        }
        const text = t.closest('#viewer.marking .viewer-text');
        if (text && marking && shown) {
            const at = caretOffset(text, event.clientX, event.clientY);
            const sentence = shown.doc.sentences.find(([s, e]) => s <= at && at < e);
            if (!sentence) return;
            const bar = marking;
            marking = null;
            document.getElementById('viewer').classList.remove('marking');
            grade(bar, 'wrong', {doc_id: shown.id, start: sentence[0], end: sentence[1]});
            return;
        }
        const other = t.closest('#viewer button.viewer-doc');
        if (other && marking) {
            const link = el('a');
            link.dataset.doc = other.dataset.doc;
            link.dataset.start = 0;
            link.dataset.end = 0;
            cites = [link];
            await show(0);
            markHere(marking);
            return;
        }
        const nav = t.closest('#viewer button[data-step]');
        if (nav) { show(at + +nav.dataset.step); return; }
        if (t.closest('#viewer button.viewer-close')) {
            document.getElementById('viewer').classList.remove('open'); return;
        }
        const opener = t.closest('a.open-doc');
        const link = t.closest('a.cite');
        if (!link && !opener) return;
        event.preventDefault();
        const msg = (link || opener).closest('.msg');
        cites = msg ? [...msg.querySelectorAll('a.cite[data-doc]')] : [];
        if (opener) cites = [opener];
        if (link && link.dataset.doc) show(Math.max(0, cites.indexOf(link)));
        else if (opener) show(0);
        if (!link) return;
        const target = document.getElementById(link.getAttribute('href').slice(1));
        if (!target) return;
        const details = target.closest('details');
        if (details) details.open = true;
        target.scrollIntoView({block: 'center'});
    }, true);
}

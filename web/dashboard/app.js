// lote dashboard: reads the page and filters from the URL (so a link can be shared), fetches
// /api/PAGE with them and draws each chart with Chart.js, beside the SQL that computed it, a
// table of its data and a CSV download. No inline script (the server's CSP forbids it).
'use strict';

(function () {
  const PAGES = ['overview', 'intents', 'entities', 'quarantine', 'drift', 'models', 'runs'];
  const FILTERS = ['from', 'to', 'model', 'text_lang', 'label'];
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442',
                   '#000000'];
  const TEXT = {
    en: {
      overview: 'Overview', intents: 'Intents', entities: 'Entities', quarantine: 'Quarantine',
      runs: 'Runs', from: 'From', to: 'To', model: 'Model version', text_lang: 'Language',
      label: 'Label', apply: 'Apply',
      sql: 'SQL (runs as is with lote query, and on Athena over lote query --athena-ddl)',
      sql_catalog: 'SQL (runs as is with lote query; not on Athena yet: it reads the catalog\'s ' +
        'table {table}, which the Athena DDL does not declare)',
      csv: 'Download CSV',
      data: 'Data', empty: 'No data for these filters.', loading: 'Loading…',
      footer: 'Every number comes from the SQL shown under its chart: run it with lote query.',
      published: 'Published', quarantined: 'Quarantined', runs_total: 'Runs',
      totals: 'Records published, quarantined, runs', per_day: 'Records per day by outcome',
      throughput: 'Throughput per run (records/s)', label_per_day: 'Label mix per day',
      top_labels_by_lang: 'Top labels per language',
      confidence: 'Confidence (calibrated score), records per tenth',
      low_confidence: 'Share of records scored below 0.5, per day',
      types_per_day: 'Entities per type per day (counts only)',
      reasons_per_day: 'Quarantined records per day by stage',
      recent: 'Most recent quarantined records', runs_table: 'Runs', drift: 'Drift',
      accuracy: 'Estimated accuracy per run (interval), and measured where labels arrived',
      latest_signals: 'Latest run: each signal over its drift threshold (1 or more: drift)',
      signals: 'Signals per run', alarms: 'Alarms per run', models: 'Models',
      versions_in_results: 'Model versions in the results: records, mean score, measured accuracy',
      shadow: 'Shadow scoring: the challenger\'s agreement with the model per run',
      registry_versions: 'Registered versions, their status and aliases',
      alias_history: 'Alias history (never rewritten)',
      promotion_evaluation: 'Latest promotion test: champion against candidate per label ' +
        '(recall; entity types: F1)',
      command: 'Shown by this lote command', flow: 'Flow execution',
      flow_events: 'Events (as Step Functions\' GetExecutionHistory gives them)',
      state_machine: 'State machine', status: 'Status', started_at: 'Started',
      stopped_at: 'Stopped', error: 'Error', cause: 'Cause',
      truncated: 'Only the first events are shown: the command shows them all.'
    },
    es: {
      overview: 'Resumen', intents: 'Intenciones', entities: 'Entidades', quarantine: 'Cuarentena',
      runs: 'Ejecuciones', from: 'Desde', to: 'Hasta', model: 'Versión del modelo',
      text_lang: 'Idioma', label: 'Etiqueta', apply: 'Aplicar',
      sql: 'SQL (se ejecuta tal cual con lote query, y en Athena sobre lote query --athena-ddl)',
      sql_catalog: 'SQL (se ejecuta tal cual con lote query; aún no en Athena: lee la tabla ' +
        '{table} del catálogo, que el DDL de Athena no declara)',
      csv: 'Descargar CSV', data: 'Datos',
      empty: 'Sin datos para estos filtros.', loading: 'Cargando…',
      footer: 'Cada número sale del SQL que se muestra bajo su gráfico: ejecútelo con lote query.',
      published: 'Publicados', quarantined: 'En cuarentena', runs_total: 'Ejecuciones',
      totals: 'Registros publicados, en cuarentena, ejecuciones',
      per_day: 'Registros por día según resultado',
      throughput: 'Rendimiento por ejecución (registros/s)',
      label_per_day: 'Mezcla de etiquetas por día',
      top_labels_by_lang: 'Etiquetas principales por idioma',
      confidence: 'Confianza (puntaje calibrado), registros por décima',
      low_confidence: 'Proporción de registros con puntaje menor que 0,5, por día',
      types_per_day: 'Entidades por tipo por día (solo conteos)',
      reasons_per_day: 'Registros en cuarentena por día según etapa',
      recent: 'Registros en cuarentena más recientes', runs_table: 'Ejecuciones',
      drift: 'Deriva',
      accuracy: 'Exactitud estimada por ejecución (intervalo) y medida donde llegaron etiquetas',
      latest_signals: 'Última ejecución: cada señal sobre su umbral de deriva (1 o más: deriva)',
      signals: 'Señales por ejecución', alarms: 'Alarmas por ejecución', models: 'Modelos',
      versions_in_results: 'Versiones del modelo en los resultados: registros, puntaje medio, ' +
        'exactitud medida',
      shadow: 'Evaluación en sombra: acuerdo del retador con el modelo por ejecución',
      registry_versions: 'Versiones registradas, su estado y sus alias',
      alias_history: 'Historia de los alias (nunca se reescribe)',
      promotion_evaluation: 'Última prueba de promoción: campeón frente a candidato por ' +
        'etiqueta (exhaustividad; tipos de entidad: F1)',
      command: 'Lo muestra este comando de lote', flow: 'Ejecución del flujo',
      flow_events: 'Eventos (como los da GetExecutionHistory de Step Functions)',
      state_machine: 'Máquina de estados', status: 'Estado', started_at: 'Inicio',
      stopped_at: 'Fin', error: 'Error', cause: 'Causa',
      truncated: 'Solo se muestran los primeros eventos: el comando los muestra todos.'
    }
  };
  // How each chart is drawn: columns by index. stacked: x, series, y; bar: x, y.
  const DRAW = {
    totals: { kind: 'numbers' },
    per_day: { kind: 'stacked', x: 0, series: 1, y: 2 },
    throughput: { kind: 'bar', x: 0, y: 2 },
    label_per_day: { kind: 'stacked', x: 0, series: 1, y: 2 },
    top_labels_by_lang: { kind: 'table' },
    confidence: { kind: 'stacked', x: 1, series: 0, y: 2 },
    low_confidence: { kind: 'bar', x: 0, y: 1 },
    types_per_day: { kind: 'stacked', x: 0, series: 1, y: 2 },
    reasons_per_day: { kind: 'stacked', x: 0, series: 1, y: 2 },
    recent: { kind: 'table' },
    runs: { kind: 'table' },
    accuracy: { kind: 'lines', x: 0, ys: [3, 4, 5, 6] },
    latest_signals: { kind: 'bar', x: 0, y: 1 },
    signals: { kind: 'table' },
    alarms: { kind: 'table' },
    versions_in_results: { kind: 'table' },
    shadow: { kind: 'table' },
    registry_versions: { kind: 'table' },
    alias_history: { kind: 'table' },
    promotion_evaluation: { kind: 'pairs', model: 0, x: 5, ys: [8, 9] }
  };

  const params = new URLSearchParams(window.location.search);
  // 'flow': one state machine execution, reached from the runs page (not in the navigation).
  const page = PAGES.includes(params.get('page')) || params.get('page') === 'flow'
    ? params.get('page') : 'overview';
  const lang = params.get('lang') === 'es' ? 'es' : 'en';
  const t = (key) => TEXT[lang][key] || TEXT.en[key] || key;
  // What the page's charts hold, for tests and for anyone reading the page's data.
  window.loteDashboard = { page: page, charts: {}, ready: false };

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children || []) e.append(c);
    return e;
  }

  function filterQuery() {
    const q = new URLSearchParams();
    for (const f of FILTERS) {
      const v = params.get(f);
      if (v) q.set(f, v);
    }
    return q;
  }

  function buildChrome() {
    document.documentElement.lang = lang;
    document.title = 'lote: ' + t(page);
    const nav = document.getElementById('nav');
    for (const p of PAGES) {
      const q = filterQuery();
      q.set('page', p);
      if (lang === 'es') q.set('lang', 'es');
      const a = el('a', { href: '/?' + q.toString() }, [t(p)]);
      if (p === page) a.setAttribute('aria-current', 'page');
      nav.append(a);
    }
    document.getElementById('f-page').value = page;
    const langInput = document.getElementById('f-lang');
    if (lang === 'es') langInput.value = 'es'; else langInput.remove();
    for (const f of FILTERS) document.getElementById('f-' + f).value = params.get(f) || '';
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  }

  // A run's flow execution (an ARN) links to its page, named by the ARN's last part.
  function flowLink(arn) {
    const name = arn.slice(arn.lastIndexOf(':') + 1);
    const q = new URLSearchParams({ page: 'flow', execution: name });
    if (lang === 'es') q.set('lang', 'es');
    return el('a', { href: '/?' + q.toString() }, [name]);
  }

  function table(chart) {
    const head = el('tr', {}, chart.columns.map((c) => el('th', { scope: 'col' }, [c])));
    const rows = chart.rows.map((r) => el('tr', {}, r.map((v, i) => el('td', {
      class: typeof v === 'number' ? 'num' : ''
    }, [v === null ? '' : chart.columns[i] === 'flow_execution' ? flowLink(String(v))
      : String(v)]))));
    return el('div', { class: 'table-box' }, [el('table', {}, [el('thead', {}, [head]),
                                                               el('tbody', {}, rows)])]);
  }

  function chartConfig(chart, draw) {
    if (draw.kind === 'lines') {
      return {
        type: 'line',
        data: {
          labels: chart.rows.map((r) => String(r[draw.x])),
          datasets: draw.ys.map((y, i) => ({
            label: chart.columns[y],
            data: chart.rows.map((r) => r[y]),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            borderDash: chart.columns[y].endsWith('_low') || chart.columns[y].endsWith('_high')
              ? [4, 4] : [],
            spanGaps: true
          }))
        },
        options: { maintainAspectRatio: false, animation: false,
                   scales: { y: { suggestedMin: 0, suggestedMax: 1 } } }
      };
    }
    if (draw.kind === 'pairs') {
      // Grouped bars: one group per label, one bar per column in ys (champion, candidate).
      const models = new Set(chart.rows.map((r) => String(r[draw.model])));
      return {
        type: 'bar',
        data: {
          labels: chart.rows.map((r) => (models.size > 1 ? String(r[draw.model]) + ': ' : '') +
                                        String(r[draw.x])),
          datasets: draw.ys.map((y, i) => ({
            label: chart.columns[y],
            data: chart.rows.map((r) => r[y]),
            backgroundColor: PALETTE[i % PALETTE.length]
          }))
        },
        options: { maintainAspectRatio: false, animation: false,
                   scales: { y: { suggestedMin: 0, suggestedMax: 1 } } }
      };
    }
    if (draw.kind === 'bar') {
      return {
        type: 'bar',
        data: {
          labels: chart.rows.map((r) => String(r[draw.x])),
          datasets: [{ label: chart.columns[draw.y], data: chart.rows.map((r) => r[draw.y]),
                       backgroundColor: PALETTE[0] }]
        },
        options: { maintainAspectRatio: false, animation: false }
      };
    }
    const xs = [...new Set(chart.rows.map((r) => String(r[draw.x])))];
    if (xs.every((x) => x !== '' && !isNaN(Number(x)))) {
      xs.sort((a, b) => Number(a) - Number(b));
    } else {
      xs.sort();
    }
    // The largest series by total, one colour each; the rest summed as "other" (a palette of
    // eight distinguishable colours cannot tell 77 intents apart; the table has them all).
    const totals = new Map();
    for (const r of chart.rows) {
      const s = String(r[draw.series]);
      totals.set(s, (totals.get(s) || 0) + (Number(r[draw.y]) || 0));
    }
    const ranked = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a));
    const shown = ranked.length > PALETTE.length ? ranked.slice(0, PALETTE.length - 1) : ranked;
    const kept = new Set(shown);
    const cells = new Map();
    for (const r of chart.rows) {
      const s = kept.has(String(r[draw.series])) ? String(r[draw.series]) : 'other';
      const key = s + '\u0000' + String(r[draw.x]);
      cells.set(key, (cells.get(key) || 0) + (Number(r[draw.y]) || 0));
    }
    const names = shown.length < ranked.length ? shown.concat(['other']) : shown;
    const datasets = names.map((s, i) => ({
      label: s,
      backgroundColor: PALETTE[i % PALETTE.length],
      data: xs.map((x) => cells.get(s + '\u0000' + x) || 0)
    }));
    return {
      type: 'bar',
      data: { labels: xs, datasets: datasets },
      options: { maintainAspectRatio: false, animation: false,
                 scales: { x: { stacked: true }, y: { stacked: true } } }
    };
  }

  function render(chart) {
    const draw = DRAW[chart.id] || { kind: 'table' };
    const title = t(chart.id === 'runs' ? 'runs_table' : chart.id);
    const section = el('section', { class: 'chart', id: 'chart-' + chart.id,
                                    'aria-labelledby': 'h-' + chart.id },
                       [el('h2', { id: 'h-' + chart.id }, [title])]);
    window.loteDashboard.charts[chart.id] = { columns: chart.columns, rows: chart.rows,
                                              sql: chart.sql };
    if (chart.rows.length === 0) {
      section.append(el('p', {}, [t('empty')]));
    } else if (draw.kind === 'numbers') {
      const names = { published: 'published', quarantined: 'quarantined', runs: 'runs_total' };
      section.append(el('div', { class: 'numbers' }, chart.columns.map((c, i) => el('div', {
        'data-value': c
      }, [el('strong', {}, [String(chart.rows[0][i])]), t(names[c] || c)]))));
    } else if (draw.kind === 'table') {
      section.append(table(chart));
    } else if (window.Chart) {
      const canvas = el('canvas', { role: 'img', 'aria-label': title });
      section.append(el('div', { class: 'canvas-box' }, [canvas]));
      new window.Chart(canvas, chartConfig(chart, draw));
      section.append(el('details', {}, [el('summary', {}, [t('data')]), table(chart)]));
    } else {
      section.append(table(chart));
    }
    const csv = filterQuery();
    csv.set('chart', chart.id);
    section.append(el('div', { class: 'tools' }, [
      el('a', { href: '/api/' + page + '.csv?' + csv.toString(), download: page + '-' +
                chart.id + '.csv', class: 'csv' }, [t('csv')])
    ]));
    if (chart.sql) {
      const summary = chart.athena ? t('sql')
        : t('sql_catalog').replace('{table}', chart.catalog_table);
      section.append(el('details', {}, [el('summary', {}, [summary]),
                                        el('pre', { class: 'sql' }, [chart.sql])]));
    } else if (chart.command) {
      section.append(el('details', {}, [el('summary', {}, [t('command')]),
                                        el('pre', { class: 'sql' }, [chart.command])]));
    }
    return section;
  }

  // The flow page: the execution's record, then its events as a table.
  function renderFlow(body) {
    const x = body.execution;
    const section = el('section', { class: 'chart wide', id: 'chart-flow_events',
                                    'aria-labelledby': 'h-flow' },
                       [el('h2', { id: 'h-flow' }, [t('flow') + ' ' + x.name])]);
    const facts = [];
    for (const k of ['state_machine', 'status', 'started_at', 'stopped_at', 'error', 'cause']) {
      if (x[k] !== null && x[k] !== '') facts.push(el('dt', {}, [t(k)]), el('dd', {}, [x[k]]));
    }
    section.append(el('dl', { class: 'facts' }, facts));
    const events = {
      id: 'flow_events',
      columns: ['id', 'timestamp', 'type', 'details'],
      rows: body.events.map((e) => {
        const details = Object.fromEntries(Object.entries(e).filter(
          ([k]) => !['id', 'previousEventId', 'timestamp', 'type'].includes(k)));
        return [e.id, e.timestamp, e.type, JSON.stringify(details)];
      })
    };
    window.loteDashboard.charts.flow_events = { columns: events.columns, rows: events.rows,
                                                sql: null };
    section.append(el('h3', {}, [t('flow_events')]), table(events));
    if (body.truncated) section.append(el('p', {}, [t('truncated')]));
    section.append(el('details', {}, [el('summary', {}, [t('command')]),
                                      el('pre', { class: 'sql' }, [body.command])]));
    return section;
  }

  async function load() {
    const main = document.getElementById('main');
    main.textContent = t('loading');
    try {
      if (page === 'flow') {
        const q = new URLSearchParams({ execution: params.get('execution') || '' });
        const response = await fetch('/api/flow?' + q.toString(), { credentials: 'same-origin' });
        const body = await response.json();
        if (!response.ok) throw new Error(body.error || response.statusText);
        main.textContent = '';
        main.append(renderFlow(body));
        window.loteDashboard.ready = true;
        document.body.dataset.ready = 'true';
        return;
      }
      const response = await fetch('/api/' + page + '?' + filterQuery().toString(),
                                   { credentials: 'same-origin' });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      main.textContent = '';
      for (const chart of body.charts) main.append(render(chart));
    } catch (err) {
      main.textContent = '';
      main.append(el('p', { class: 'error', role: 'alert' }, [String(err.message || err)]));
      window.loteDashboard.error = String(err.message || err);
    }
    window.loteDashboard.ready = true;
    document.body.dataset.ready = 'true';
  }

  document.addEventListener('DOMContentLoaded', () => {
    buildChrome();
    load();
  });
}());

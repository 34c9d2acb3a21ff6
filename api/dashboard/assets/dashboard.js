// Draws every <canvas data-chart> with the bundled Chart.js. The numbers come from the page itself (the
// server wrote them as JSON into the attribute, next to a table of the same numbers); nothing is fetched.
(function () {
  'use strict';
  var palette = ['#2f6fb0', '#e07b39', '#3a9d5d', '#c23b3b', '#7d5ba6', '#8c6d31', '#4aa3a3', '#d45087', '#666666'];
  var timelineStyles = {
    won: { color: '#2f6fb0', pointStyle: 'star', radius: 7 },
    due: { color: '#999999', pointStyle: 'rectRot', radius: 6 },
    'done on time': { color: '#3a9d5d', pointStyle: 'circle', radius: 6 },
    'done late (breach)': { color: '#c23b3b', pointStyle: 'triangle', radius: 8 },
    'overdue (breach)': { color: '#c23b3b', pointStyle: 'crossRot', radius: 9 },
    events: { color: '#2f6fb0', pointStyle: 'circle', radius: 5 },
  };
  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  }
  function percentTick(value) {
    return Math.round(value * 1000) / 10 + ' %';
  }
  function config(spec) {
    if (spec.type === 'timeline') {
      return {
        type: 'scatter',
        data: {
          datasets: spec.datasets.map(function (dataset) {
            var style = timelineStyles[dataset.label] || { color: palette[0], pointStyle: 'circle', radius: 5 };
            return {
              label: dataset.label,
              data: dataset.data,
              backgroundColor: style.color,
              borderColor: style.color,
              pointStyle: style.pointStyle,
              pointRadius: style.radius,
            };
          }),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            x: { type: 'linear', title: { display: Boolean(spec.x), text: spec.x }, ticks: { callback: isoDay, maxRotation: 0, autoSkipPadding: 24 } },
            y: { type: 'category', labels: spec.labels, offset: true },
          },
          plugins: {
            tooltip: {
              callbacks: {
                label: function (item) {
                  return item.raw.y + ' · ' + (item.raw.status || item.dataset.label) + ' · ' + isoDay(item.raw.x);
                },
              },
            },
          },
        },
      };
    }
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (dataset, i) {
          var color = palette[i % palette.length];
          var deadline = /deadline$/.test(dataset.label);
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: color,
            borderColor: color,
            borderDash: deadline ? [6, 4] : undefined,
            pointRadius: deadline ? 0 : 3,
            spanGaps: true,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? 'y' : 'x',
        scales: (function () {
          var value = { beginAtZero: true, title: { display: Boolean(spec.y), text: spec.y } };
          if (spec.percent) {
            value.max = 1;
            value.ticks = { callback: percentTick };
          }
          return spec.horizontal ? { x: value } : { y: value };
        })(),
        plugins: spec.percent
          ? { tooltip: { callbacks: { label: function (item) { return item.dataset.label + ': ' + percentTick(item.raw); } } } }
          : {},
      },
    };
  }
  function draw() {
    var canvases = document.querySelectorAll('canvas[data-chart]');
    for (var i = 0; i < canvases.length; i += 1) {
      var canvas = canvases[i];
      var box = canvas.parentElement;
      if (box && box.dataset.height) box.style.height = box.dataset.height + 'px';
      try {
        new window.Chart(canvas, config(JSON.parse(canvas.dataset.chart)));
        canvas.dataset.rendered = 'true';
      } catch (error) {
        canvas.dataset.rendered = 'failed';
        canvas.dataset.error = String(error && error.message);
      }
    }
    document.body.dataset.charts = 'ready';
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();

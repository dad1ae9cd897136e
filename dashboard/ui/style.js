// Plain CSS injected once (a library build would otherwise emit a separate .css file the dashboard never loads).
const CSS = `
.axmjpeg-tile{position:relative;width:100%;background:#111;overflow:hidden;border-radius:4px;color:#fff;font:12px/1.3 system-ui,sans-serif}
.axmjpeg-tile.axmjpeg-fill{height:100%;min-height:120px}
.axmjpeg-clickable{cursor:zoom-in}
.axmjpeg-img{position:absolute;inset:0;width:100%;height:100%;display:block}
.axmjpeg-empty{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;padding:8px;text-align:center;opacity:.8}
.axmjpeg-bar{position:absolute;left:0;right:0;bottom:0;display:flex;justify-content:space-between;gap:8px;padding:3px 6px;background:rgba(0,0,0,.55);pointer-events:none}
.axmjpeg-label{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.axmjpeg-state{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.axmjpeg-reconnecting,.axmjpeg-connecting{color:#ffcc66}
.axmjpeg-offline{color:#ff8080}
.axmjpeg-snap{position:absolute;top:6px;right:6px;border:0;border-radius:50%;width:30px;height:30px;display:flex;align-items:center;justify-content:center;background:rgba(0,0,0,.5);color:#fff;cursor:pointer}
.axmjpeg-snap:hover{background:rgba(0,0,0,.8)}
.axmjpeg-full{position:fixed;inset:0;z-index:10000;background:rgba(0,0,0,.92);cursor:zoom-out;display:flex;align-items:center;justify-content:center}
.axmjpeg-full img{max-width:100%;max-height:100%;object-fit:contain}
`;

export function injectStyle() {
  if (typeof document === 'undefined' || document.getElementById('axmjpeg-camera-style')) return;
  const el = document.createElement('style');
  el.id = 'axmjpeg-camera-style';
  el.textContent = CSS;
  document.head.appendChild(el);
}

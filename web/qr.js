// QR codes as SVG built with DOM calls: no markup strings (nothing for the CSP to refuse) and
// crisp at any size, so a phone can show a ticket to a door scanner.
import qrcode from './vendor/qrcode.mjs';

const SVG = 'http://www.w3.org/2000/svg';
const QUIET_ZONE = 4; // modules of white border that scanners need around a code

/** An <svg role="img"> drawing `text` as a QR code, described by `label`. */
export function qrSvg(text, label) {
  const qr = qrcode(0, 'M'); // version 0: the smallest that fits
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const size = count + QUIET_ZONE * 2;
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) d += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000');
  svg.append(background, modules);
  svg.dataset.qr = text;
  return svg;
}

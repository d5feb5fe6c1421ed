import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type QrFactory = (type: number, level: 'L' | 'M' | 'Q' | 'H') => { addData(d: string): void; make(): void; getModuleCount(): number; isDark(r: number, c: number): boolean };
const qrcode = createRequire(import.meta.url)('qrcode-generator') as QrFactory;

/**
 * A Y4M video (what Chromium's fake camera plays, `--use-file-for-fake-video-capture`) showing `text`
 * as a QR code, black on white, `frames` identical frames of 640×480 (4:2:0, grey: U and V are 128).
 */
export function writeQrVideo(path: string, text: string, frames = 10): void {
  const width = 640;
  const height = 480;
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const scale = Math.floor(Math.min(width, height) / (count + 8));
  const left = Math.floor((width - count * scale) / 2);
  const top = Math.floor((height - count * scale) / 2);
  const y = Buffer.alloc(width * height, 235);
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (!qr.isDark(row, col)) continue;
      for (let dy = 0; dy < scale; dy++) y.fill(16, (top + row * scale + dy) * width + left + col * scale, (top + row * scale + dy) * width + left + (col + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), ...Array.from({ length: frames }, () => frame)]));
}

/* The widget's library: Dashboard 2.0 takes window['ui-axmjpeg-camera'].UIAxmjpegCamera. */
import { injectStyle } from './style.js';
import { wallStats } from './wall-link.js';

injectStyle();
// For tests and curious users: frames, bytes and sockets of this page's camera wall.
if (typeof window !== 'undefined') window.axmjpegCameraWall = { stats: wallStats };

export { default as UIAxmjpegCamera } from './UIAxmjpegCamera.vue';

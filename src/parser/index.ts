export { parseBoundary, normalizeBoundary } from './content-type';
export { MjpegParser } from './mjpeg-parser';
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_HEADER_BYTES, MAX_DELIMITER_PADDING } from './limits';
export type { MjpegFrame, MjpegParserOptions, ParserStats } from './types';
export { ByteAccumulator } from './byte-accumulator';
export { jpegSize, isCompleteJpeg, jpegEnd, JpegScanner, JPEG_INVALID, JPEG_NEED_MORE } from '../jpeg/jpeg-info';
export type { JpegSize } from '../jpeg/jpeg-info';

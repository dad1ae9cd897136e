export { parseBoundary, normalizeBoundary } from './content-type';
export {
  MjpegParser,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  MAX_DELIMITER_PADDING,
} from './mjpeg-parser';
export type { MjpegFrame, MjpegParserOptions, ParserStats } from './mjpeg-parser';
export { ByteAccumulator } from './byte-accumulator';
export { jpegSize, isCompleteJpeg, jpegEnd, JpegScanner, JPEG_INVALID, JPEG_NEED_MORE } from '../jpeg/jpeg-info';
export type { JpegSize } from '../jpeg/jpeg-info';

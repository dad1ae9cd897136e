/*
 * Editor helpers shared by the @axmjpeg/node-red-axis-mjpeg node dialogs.
 *
 * Node-RED (>= 1.3) serves this package's resources/ folder at
 * resources/@axmjpeg/node-red-axis-mjpeg/; every node .html loads this file
 * with a relative <script src> (so it works under any httpAdminRoot), and the
 * editor runs it before that .html's own scripts. Each node set loads it
 * again (a set can be enabled on its own), so running twice must be harmless.
 */
(function () {
    'use strict';
    if (window.AxisMjpegEditor) { return; }

    function isUnset(v) {
        return v === '' || v === undefined || v === null;
    }

    function inRange(v, min, max, opts) {
        var n = Number(v);
        if (!Number.isFinite(n)) { return false; }
        if (opts && opts.integer && !Number.isInteger(n)) { return false; }
        return (opts && opts.minExclusive ? n > min : n >= min) && n <= max;
    }

    /** Optional number: empty means "not set" (the runtime then uses its default). opts: { integer, minExclusive }. */
    function optNum(min, max, opts) {
        return function (v) { return isUnset(v) || inRange(v, min, max, opts); };
    }

    /**
     * Required number. opts: { integer, minExclusive, absentOk }. absentOk: for a setting added
     * after flows were written: a flow without the property gets the runtime's default, so the
     * editor must not mark such a node invalid (a blank field still is).
     */
    function num(min, max, opts) {
        return function (v) { return (v === undefined && !!(opts && opts.absentOk)) || (!isUnset(v) && inRange(v, min, max, opts)); };
    }

    function oneOf() {
        var allowed = Array.prototype.slice.call(arguments);
        return function (v) { return allowed.indexOf(v) >= 0; };
    }

    /** VAPIX resolution, e.g. 640x480; empty = the camera's default. */
    function resolution(v) {
        return !v || /^\d{1,5}x\d{1,5}$/i.test(v);
    }

    /** VAPIX camera (video source) number 1-99 or "quad"; empty = the default source. */
    function cameraNumber(v) {
        return !v || /^(quad|[1-9]\d?)$/i.test(v);
    }

    /**
     * A property another property's validator depends on: while the edit dialog
     * is open the input holds the value being edited, not yet the node's.
     */
    function dialogValue(node, prop) {
        var $input = $('#node-input-' + prop);
        return $input.length ? $input.val() : node[prop];
    }

    /** labelStyle: a user-given name is shown in italics, as in Node-RED's core nodes. */
    function italicIfNamed() {
        return this.name ? 'node_label_italic' : '';
    }

    window.AxisMjpegEditor = {
        optNum: optNum,
        num: num,
        oneOf: oneOf,
        resolution: resolution,
        cameraNumber: cameraNumber,
        dialogValue: dialogValue,
        italicIfNamed: italicIfNamed
    };
})();

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

    /**
     * A picker beside the "camera no." input: asks the deployed camera config
     * node chosen in #node-input-camera for its video sources and view areas
     * (GET axmjpeg-camera/<id>/sources) and offers them in a dropdown that fills
     * the input. On a button press only: each look-up is a camera request.
     * `ns` is the node type, for its localized texts (<ns>.sources.*).
     */
    function sourcePicker(node, ns) {
        var input = $('#node-input-cameraNumber');
        if (!input.length || input.data('axmjpeg-picker')) { return; }
        input.data('axmjpeg-picker', true);
        var btn = $('<button type="button" class="red-ui-button" style="margin-left: 4px"><i class="fa fa-list"></i></button>')
            .attr('title', node._(ns + '.sources.list'));
        var sel = $('<select style="width: auto; max-width: 240px; margin-left: 4px; display: none"></select>');
        input.after(btn);
        btn.after(sel);
        btn.on('click', function () {
            var cam = $('#node-input-camera').val();
            if (!cam || cam === '_ADD_') {
                RED.notify(node._(ns + '.sources.noCamera'), 'warning');
                return;
            }
            btn.prop('disabled', true);
            $.getJSON('axmjpeg-camera/' + encodeURIComponent(cam) + '/sources')
                .done(function (r) {
                    if (!r || !r.ok) {
                        RED.notify((r && r.message) || node._(ns + '.sources.failed'), 'warning');
                        return;
                    }
                    sel.empty().append($('<option>').val('').text(node._(ns + '.sources.default')));
                    r.sources.forEach(function (s) {
                        // .text(): names come from the camera.
                        sel.append($('<option>').val(s.camera).text(s.camera + ': ' + s.name +
                            (s.resolution ? ' (' + s.resolution + ')' : '') + (s.sensor ? ', ' + s.sensor : '')));
                    });
                    if (r.sources.length === 0) { RED.notify(node._(ns + '.sources.none'), 'warning'); }
                    sel.val(input.val()).show();
                })
                .fail(function (xhr) {
                    RED.notify((xhr.responseJSON && xhr.responseJSON.message) || node._(ns + '.sources.failed') + ' ' + xhr.status, 'warning');
                })
                .always(function () { btn.prop('disabled', false); });
        });
        sel.on('change', function () { input.val(sel.val()).trigger('change'); });
    }

    window.AxisMjpegEditor = {
        sourcePicker: sourcePicker,
        optNum: optNum,
        num: num,
        oneOf: oneOf,
        resolution: resolution,
        cameraNumber: cameraNumber,
        dialogValue: dialogValue,
        italicIfNamed: italicIfNamed
    };
})();

export const id = 155;
export const ids = [155];
export const modules = {

/***/ 1155:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   runDemo: () => (/* binding */ runDemo)
/* harmony export */ });
/* harmony import */ var _actions_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(79);
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1662);
/* harmony import */ var _lib_log_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1025);
/* harmony import */ var _generated_actions_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(662);
// `airlift demo`: the main job on embedded defaults, no network and no accounts.
// For now it checks that every action's embedded defaults pass its input validation and shows
// what each action will do; the chained-workflows issue turns it into the full release chain.




async function runDemo(_argv, _io) {
    const rows = [];
    for (const name of Object.keys(_generated_actions_js__WEBPACK_IMPORTED_MODULE_3__/* .manifests */ .L)) {
        const def = await (0,_actions_index_js__WEBPACK_IMPORTED_MODULE_0__/* .loadAction */ .d)(name);
        const required = Object.entries(_generated_actions_js__WEBPACK_IMPORTED_MODULE_3__/* .manifests */ .L[name].inputs).filter(([, d]) => d.required);
        // Required inputs have no default; give each a placeholder so the defaults can be checked.
        const saved = required.map(([n]) => [n, process.env[`INPUT_${n.toUpperCase()}`]]);
        for (const [n] of required)
            process.env[`INPUT_${n.toUpperCase()}`] = demoValue(n);
        try {
            (0,_lib_inputs_js__WEBPACK_IMPORTED_MODULE_1__/* .readInputs */ .Ko)(name, def.inputs);
            rows.push([name, 'defaults valid', String(Object.keys(_generated_actions_js__WEBPACK_IMPORTED_MODULE_3__/* .manifests */ .L[name].inputs).length)]);
        }
        finally {
            for (const [n, v] of saved) {
                if (v === undefined)
                    delete process.env[`INPUT_${n.toUpperCase()}`];
                else
                    process.env[`INPUT_${n.toUpperCase()}`] = v;
            }
        }
    }
    (0,_lib_log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq)('airlift demo: the release chain is not wired up yet; checked every action\'s embedded defaults.');
    _lib_log_js__WEBPACK_IMPORTED_MODULE_2__/* .summary */ .z.heading('Airlift demo');
    _lib_log_js__WEBPACK_IMPORTED_MODULE_2__/* .summary */ .z.table(['action', 'result', 'inputs'], rows);
    await _lib_log_js__WEBPACK_IMPORTED_MODULE_2__/* .summary */ .z.flush();
    return 0;
}
function demoValue(input) {
    const values = {
        images: '127.0.0.1:5000/demo/app:1.0.0',
        'disk-image': 'disk.raw',
        's3-uri': 's3://demo-bucket/images',
        'ami-name': 'demo-{version}',
        source: 'README.md',
        destination: 'file://airlift-output/upload',
    };
    return values[input] ?? 'demo';
}


/***/ })

};

export const id = 976;
export const ids = [976];
export const modules = {

/***/ 2976:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'build-ami',
    inputs: {
        'disk-image': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'disk-format': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['auto', 'raw', 'qcow2', 'vmdk', 'vhd']),
        's3-uri': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ pattern: /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, hint: 's3://bucket/prefix' }),
        region: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        endpoint: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ pattern: /^https?:\/\/\S+$/, hint: 'an http(s) URL' }),
        'ami-name': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        version: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'ami-description': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        architecture: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['x86_64', 'arm64']),
        'boot-mode': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['legacy-bios', 'uefi', 'uefi-preferred']),
        'ena-support': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'role-name': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        tags: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        timeout: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.duration({ min: 60_000 }),
        'keep-upload': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'access-key-id': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
        'secret-access-key': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
        'session-token': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ secret: true }),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('build-ami');
    },
    async post() {
        // Nothing to cancel yet: the import-task cleanup lands with the action itself.
    },
}));


/***/ })

};

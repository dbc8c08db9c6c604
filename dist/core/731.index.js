export const id = 731;
export const ids = [731];
export const modules = {

/***/ 9731:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   "default": () => (__WEBPACK_DEFAULT_EXPORT__)
/* harmony export */ });
/* harmony import */ var _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1662);
/* harmony import */ var _lib_run_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(4114);


/* harmony default export */ const __WEBPACK_DEFAULT_EXPORT__ = ((0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .defineAction */ .QP)({
    name: 'setup-buildx-qemu',
    inputs: {
        'qemu-mode': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['auto', 'image', 'host', 'none']),
        'qemu-image': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'qemu-platforms': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        'buildx-version': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        'buildx-url': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string(),
        driver: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.enum(['docker-container', 'docker', 'kubernetes', 'remote']),
        'driver-opts': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        name: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.string({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, hint: 'letters, digits, "_", "." and "-"' }),
        use: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
        'buildkitd-config-inline': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.text(),
        'registry-mirrors': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        'insecure-registries': _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.list(),
        cleanup: _lib_inputs_js__WEBPACK_IMPORTED_MODULE_0__/* .input */ .hF.boolean(),
    },
    async main() {
        (0,_lib_run_js__WEBPACK_IMPORTED_MODULE_1__/* .notImplemented */ .SJ)('setup-buildx-qemu', 5);
    },
    async post() {
        // Nothing was created yet: the builder removal lands with the action itself.
    },
}));


/***/ })

};

# TEMPORARY STUB (datapools/stats helper) - delete before finishing
class Context:
    def __init__(self, send_fn, config, id_data=None, should_stop_func=None, debug=False):
        self._send_fn = send_fn
        self._config = config
        self._id_data = id_data or {}

    @property
    def config(self):
        return self._config

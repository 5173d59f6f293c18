<?php
/**
 * bridgehints 1.2.0: the share code stored with each order (table bridge_order_code, Webservice resource
 * bridge_order_codes) and the hooks that keep it.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

function upgrade_module_1_2_0($module)
{
    return BridgeOrderCode::createTable() && $module->registerCodeHooks();
}

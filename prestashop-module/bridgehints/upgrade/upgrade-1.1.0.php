<?php
/**
 * bridgehints 1.1.0: the widget's hooks (the script on every page, its place on the confirmation page).
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

function upgrade_module_1_1_0($module)
{
    return $module->registerWidgetHooks();
}

<?php
/**
 * Runs the bridgehints module outside PrestaShop, for the tests: the few core classes it touches
 * (Module, Configuration, Tools, Order, Context, AdminController, PrestaShopLogger) are small
 * stand-ins that behave as PrestaShop's do for these calls; the HTTP requests are real.
 *
 *     php harness.php SCENARIO.json
 *
 * The scenario gives the configuration, the orders' stores, the hooks to call and, optionally, a
 * configuration-page request. The harness prints one JSON object at shutdown, after the module's own
 * shutdown sender ran: {"content": ..., "logs": [...], "configuration": {...}, "transport": "curl"|"streams"}.
 */
define('_PS_VERSION_', '8.1.7');
error_reporting(E_ALL);  // every notice and deprecation goes to stderr, which the tests require empty
ini_set('display_errors', 'stderr');

$scenario = json_decode(file_get_contents($argv[1]), true);

class Configuration
{
    public static $values = array();

    public static function get($key, $idLang = null, $idShopGroup = null, $idShop = null, $default = false)
    {
        if ($idShop !== null && isset(self::$values[$idShop . ':' . $key])) {
            return self::$values[$idShop . ':' . $key];
        }
        return isset(self::$values[$key]) ? self::$values[$key] : $default;
    }

    public static function updateValue($key, $value)
    {
        self::$values[$key] = $value;
        return true;
    }

    public static function deleteByName($key)
    {
        unset(self::$values[$key]);
        return true;
    }
}

class PrestaShopLogger
{
    public static $lines = array();

    public static function addLog($message, $severity = 1, $errorCode = null, $objectType = null)
    {
        self::$lines[] = array('message' => $message, 'severity' => $severity, 'object' => $objectType);
        return true;
    }
}

class Tools
{
    public static $post = array();

    public static function isSubmit($name)
    {
        return array_key_exists($name, self::$post);
    }

    public static function getValue($name, $default = false)
    {
        return array_key_exists($name, self::$post) ? self::$post[$name] : $default;
    }

    public static function getAdminTokenLite($tab)
    {
        return 'token-' . $tab;
    }
}

class AdminController
{
    public static $currentIndex = 'index.php?controller=AdminModules';
}

class Order
{
    public static $shops = array();
    public $id;
    public $id_shop;
    public $id_cart;

    public function __construct($id)
    {
        $this->id = (int) $id;
        $this->id_shop = isset(self::$shops[$this->id]) ? self::$shops[$this->id] : null;
        $this->id_cart = 1000 + $this->id;
    }
}

define('_DB_PREFIX_', 'ps_');
define('_MYSQL_ENGINE_', 'InnoDB');

function pSQL($text)
{
    return addslashes((string) $text);
}

class ObjectModel
{
    const TYPE_INT = 1;
    const TYPE_STRING = 3;
    const TYPE_DATE = 5;
}

/** The database: records the module's statements; `cart_codes` of the scenario answer its one query. */
class Db
{
    public static $queries = array();
    public static $cartCodes = array();

    public static function getInstance()
    {
        return new Db();
    }

    public function execute($sql)
    {
        self::$queries[] = $sql;
        return true;
    }

    public function getValue($sql)
    {
        self::$queries[] = $sql;
        return preg_match('/`id_cart` = (\d+)/', $sql, $m) && isset(self::$cartCodes[$m[1]]) ? self::$cartCodes[$m[1]] : false;
    }
}

class Context
{
    public $shop;
    public $cart;
}

class Module
{
    public $name;
    public $tab;
    public $version;
    public $author;
    public $need_instance;
    public $ps_versions_compliancy;
    public $bootstrap;
    public $displayName;
    public $description;
    public $context;
    public static $hooks = array();

    public function __construct()
    {
        $this->context = new Context();
        $this->context->shop = (object) array('id' => 1);
        global $scenario;
        $this->context->cart = isset($scenario['cart']) ? (object) array('id' => $scenario['cart']) : null;
    }

    public function l($text)
    {
        return $text;
    }

    public function install()
    {
        return true;
    }

    public function uninstall()
    {
        return true;
    }

    public function registerHook($name)
    {
        self::$hooks[] = $name;
        return true;
    }

    public function displayError($text)
    {
        return '<div class="alert alert-danger">' . $text . '</div>';
    }

    public function displayConfirmation($text)
    {
        return '<div class="alert alert-success">' . $text . '</div>';
    }
}

Configuration::$values = isset($scenario['configuration']) ? $scenario['configuration'] : array();
Order::$shops = isset($scenario['order_shops']) ? $scenario['order_shops'] : array();
Tools::$post = isset($scenario['post']) ? $scenario['post'] : array();
Db::$cartCodes = isset($scenario['cart_codes']) ? $scenario['cart_codes'] : array();
$_COOKIE = isset($scenario['cookies']) ? $scenario['cookies'] : array();

require $scenario['module'];

// Registered before the module's own sender, so PHP runs it first: the report waits for the sends.
register_shutdown_function(function () use (&$content, &$outputs) {
    register_shutdown_function(function () use (&$content, &$outputs) {
        echo json_encode(array(
            'content' => $content,
            'logs' => PrestaShopLogger::$lines,
            'configuration' => Configuration::$values,
            'hooks' => Module::$hooks,
            'queries' => Db::$queries,
            'outputs' => $outputs,
            'transport' => function_exists('curl_init') ? 'curl' : 'streams',
        ));
    });
});

$module = new BridgeHints();
$content = null;
$outputs = array();  // what each hook returned (the display hooks print into the page)
if (!empty($scenario['install'])) {
    $module->install();
}
foreach (isset($scenario['calls']) ? $scenario['calls'] : array() as $call) {
    $params = $call[1];
    if (isset($params['order'])) {
        $params['order'] = new Order($params['order']);  // the hooks pass an Order object
    }
    $outputs[] = $module->{$call[0]}($params);
}
if (!empty($scenario['content'])) {
    $content = $module->getContent();
}

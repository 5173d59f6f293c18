<?php
/**
 * bridge order hints: tells bridge at once when an order is validated, changes state or gets a credit slip.
 *
 * A hint only names an order (`{"event", "id_order", "id_shop"}`), signed with the secret shared with
 * bridge (header X-Bridge-Signature: base64 of the HMAC-SHA256 of the exact body). bridge then reads
 * the order itself through the Webservice, so a hint that is lost, late, repeated or forged can neither
 * add nor change anything; bridge's periodic poll catches up on anything missed.
 *
 * Hints are gathered during the request (one per order, whatever the hooks that fired) and sent when
 * PHP shuts down, with short timeouts, and every failure is swallowed into the shop's logs: the
 * checkout and the back office never wait for bridge or break because of it.
 *
 * It also keeps the share code a shopper came with (the first-party cookie bridge's widget sets from a share
 * link, `bridge_<shop>` = "CODE.TAG|expiry in ms") with their cart, then with the order once it is validated;
 * bridge reads it through the Webservice resource bridge_order_codes it adds (GET only). So an order is
 * attributed even when its confirmation page never runs the widget.
 *
 * PrestaShop 1.7 and 8.x, PHP 7.1 or later. MIT licence, like bridge.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

require_once __DIR__ . '/classes/BridgeOrderCode.php';

class BridgeHints extends Module
{
    const VERSION = '1.2.0';
    const CODE = '/^([0-9A-Za-z]{8,32}(?:\.[0-9A-Za-z]{8,32})?)\|(\d{10,16})$/';
    const CONFIG_URL = 'BRIDGEHINTS_URL';
    const CONFIG_SECRET = 'BRIDGEHINTS_SECRET';
    const CONNECT_TIMEOUT = 2;
    const TIMEOUT = 3;
    const MIN_SECRET = 32;

    /** @var array<int, string> the hints of this request: order id => event (the last hook's wins) */
    private static $pending = array();
    /** @var bool whether the shutdown sender is registered for this request */
    private static $registered = false;

    public function __construct()
    {
        $this->name = 'bridgehints';
        $this->tab = 'advertising_marketing';
        $this->version = self::VERSION;
        $this->author = 'bridge';
        $this->need_instance = 0;
        $this->ps_versions_compliancy = array('min' => '1.7.0.0', 'max' => _PS_VERSION_);
        $this->bootstrap = true;
        parent::__construct();
        $this->displayName = $this->l('bridge order hints');
        $this->description = $this->l('Tells bridge at once when an order is paid, changes state or is refunded, so that share links and cashback show up without waiting for the next poll.');
    }

    public function install()
    {
        return parent::install()
            && $this->registerHook('actionValidateOrder')
            && $this->registerHook('actionOrderStatusPostUpdate')
            && $this->registerHook('actionOrderSlipAdd')
            && $this->registerWidgetHooks()
            && BridgeOrderCode::createTable()
            && $this->registerCodeHooks();
    }

    /** The hooks that keep the share code with carts and orders (also run by upgrade/upgrade-1.2.0.php). */
    public function registerCodeHooks()
    {
        return $this->registerHook('actionCartSave') && $this->registerHook('addWebserviceResources');
    }

    /** The Webservice resource bridge reads the stored codes from (the key needs GET on it). */
    public function hookAddWebserviceResources($params)
    {
        return array('bridge_order_codes' => array('description' => 'Share codes bridge stored with orders',
            'class' => 'BridgeOrderCode', 'forbidden_method' => array('PUT', 'POST', 'PATCH', 'DELETE')));
    }

    /** The shopper's cart changed: keep the share code of their cookie with it (a later payment may be off-site). */
    public function hookActionCartSave($params)
    {
        try {
            $cart = isset($this->context->cart) ? $this->context->cart : null;
            $code = $this->cookieCode();
            if ($code !== null && $cart && (int) $cart->id > 0 && !defined('_PS_ADMIN_DIR_')) {
                BridgeOrderCode::keepForCart((int) $cart->id, $code);
            }
        } catch (Throwable $e) {  // never break the shopper's cart
            self::log('bridge share code not kept: ' . get_class($e));
        }
    }

    /** The share code of the shopper's cookie, if well-formed and not expired; else null. */
    public function cookieCode()
    {
        $shop = self::shopOf((string) Configuration::get(self::CONFIG_URL));
        $name = 'bridge_' . $shop;
        if ($shop === null || !isset($_COOKIE[$name]) || !is_string($_COOKIE[$name])
                || !preg_match(self::CODE, $_COOKIE[$name], $match) || (float) $match[2] < microtime(true) * 1000) {
            return null;
        }
        return strtoupper($match[1]);
    }

    /** Store the code with a validated order: the cart's (kept while shopping), else the cookie's. */
    public function storeOrderCode($order)
    {
        try {
            if (!is_object($order) || (int) $order->id <= 0) {
                return;
            }
            $code = BridgeOrderCode::ofCart((int) $order->id_cart);
            if ($code === null && !defined('_PS_ADMIN_DIR_')) {
                $code = $this->cookieCode();
            }
            if ($code !== null) {
                BridgeOrderCode::storeForOrder((int) $order->id, (int) $order->id_cart, $code);
            }
        } catch (Throwable $e) {  // never break the checkout
            self::log('bridge share code not stored: ' . get_class($e));
        }
    }

    /** The shop id at the end of bridge's webhook URL, or null. */
    public static function shopOf($url)
    {
        return self::isWebhookUrl($url) ? substr($url, strrpos($url, '/webhooks/') + strlen('/webhooks/')) : null;
    }

    /** The hooks that put bridge's widget on the shop's pages (also run by upgrade/upgrade-1.1.0.php). */
    public function registerWidgetHooks()
    {
        return $this->registerHook('displayBeforeBodyClosingTag') && $this->registerHook('displayOrderConfirmation');
    }

    /**
     * Every page: the one line of `bridge snippet`, built from the configured webhook URL
     * (https://BRIDGE/webhooks/SHOP gives https://BRIDGE/widget.js and data-shop="SHOP").
     */
    public function hookDisplayBeforeBodyClosingTag($params)
    {
        $url = (string) Configuration::get(self::CONFIG_URL);
        if (!self::isWebhookUrl($url)) {
            return '';
        }
        $cut = strrpos($url, '/webhooks/');
        $base = substr($url, 0, $cut);
        $shop = substr($url, $cut + strlen('/webhooks/'));
        return '<script src="' . self::escape($base . '/widget.js') . '" data-shop="' . self::escape($shop)
            . '" async></script>' . "\n";
    }

    /**
     * The confirmation page: where the widget shows the buyer's share link (in the theme's confirmation block).
     * The place is kept at the widget's height before it draws itself, so that the order's details below
     * do not jump when it appears (a layout shift); the widget gives it back if it has nothing to show.
     * 340px: the widget's open group at its full width of 640px with the buyer's amount line is 330px, and
     * the buyer's referral link on a phone 322px, margins included (flow-root keeps them inside the place).
     * A group on a phone is taller (its channels wrap): it still pushes the details down. bridge's tests
     * measure the shift in Chromium on the classic theme.
     */
    public function hookDisplayOrderConfirmation($params)
    {
        if ((string) Configuration::get(self::CONFIG_URL) === '') {
            return '';
        }
        return '<style>[data-bridge-widget] { display: flow-root; min-height: 340px; }</style>'
            . '<div data-bridge-widget></div>';
    }

    public function uninstall()
    {
        Configuration::deleteByName(self::CONFIG_URL);
        Configuration::deleteByName(self::CONFIG_SECRET);
        return BridgeOrderCode::dropTable() && parent::uninstall();
    }

    /** An order was created by a payment module (once per order: a split cart fires once per order). */
    public function hookActionValidateOrder($params)
    {
        $this->storeOrderCode(isset($params['order']) ? $params['order'] : null);
        $this->queue('order.created', isset($params['order']) ? $params['order'] : null);
    }

    /** An order moved to another state (paid, shipped, cancelled, refunded...). */
    public function hookActionOrderStatusPostUpdate($params)
    {
        $this->queue('order.updated', isset($params['id_order']) ? $params['id_order'] : null);
    }

    /** A credit slip (a partial refund) was added to an order. */
    public function hookActionOrderSlipAdd($params)
    {
        $this->queue('order.refunded', isset($params['order']) ? $params['order'] : null);
    }

    /** Remember a hint for the end of the request. */
    public function queue($event, $order)
    {
        $id = is_object($order) ? (int) $order->id : (int) $order;
        if ($id <= 0) {
            return;
        }
        self::$pending[$id] = $event;
        if (!self::$registered) {
            self::$registered = true;
            register_shutdown_function(array($this, 'flush'));
        }
    }

    /** Send the hints of this request (called at shutdown; never throws). */
    public function flush()
    {
        $pending = self::$pending;
        self::$pending = array();
        foreach ($pending as $id => $event) {
            $this->send($event, $id);
        }
    }

    /**
     * POST one signed hint to bridge; return array(HTTP status or 0, error or null). Never throws.
     *
     * @return array
     */
    public function send($event, $orderId)
    {
        try {
            // The order's own store decides (a back-office change may run in the "all shops" context).
            $idShop = $orderId > 0 ? (int) (new Order((int) $orderId))->id_shop : 0;
            if ($idShop <= 0 && isset($this->context->shop)) {
                $idShop = (int) $this->context->shop->id;
            }
            $url = (string) Configuration::get(self::CONFIG_URL, null, null, $idShop ?: null);
            $secret = (string) Configuration::get(self::CONFIG_SECRET, null, null, $idShop ?: null);
            if ($url === '' || $secret === '') {
                return array(0, 'not configured');
            }
            $body = json_encode(array(
                'event' => $event,
                'id_order' => (int) $orderId,
                'id_shop' => $idShop,
                'module' => self::VERSION,
            ));
            $headers = array(
                'Content-Type: application/json',
                'X-Bridge-Event: ' . $event,
                'X-Bridge-Signature: ' . self::sign($secret, $body),
                'User-Agent: bridgehints/' . self::VERSION . ' PrestaShop/' . _PS_VERSION_,
            );
            $result = function_exists('curl_init') ? self::postWithCurl($url, $headers, $body) : self::postWithStreams($url, $headers, $body);
        } catch (Throwable $e) {  // PHP 7: errors too, so that nothing reaches the checkout
            $result = array(0, get_class($e));
        }
        if ($result[0] < 200 || $result[0] >= 300) {
            // The order id and the answer only: never the secret or the body's signature.
            self::log(sprintf('bridge hint %s for order %d not delivered: %s', $event, $orderId,
                $result[1] !== null ? $result[1] : 'HTTP ' . $result[0]));
        }
        return $result;
    }

    /** The signature bridge checks: base64 of the raw HMAC-SHA256 of the body. */
    public static function sign($secret, $body)
    {
        return base64_encode(hash_hmac('sha256', $body, $secret, true));
    }

    private static function postWithCurl($url, array $headers, $body)
    {
        $curl = curl_init($url);
        curl_setopt_array($curl, array(
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => self::CONNECT_TIMEOUT,
            CURLOPT_TIMEOUT => self::TIMEOUT,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        ));
        curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_HTTP_CODE);
        $error = curl_errno($curl) ? curl_error($curl) : null;
        curl_close($curl);
        return array($status, $error);
    }

    private static function postWithStreams($url, array $headers, $body)
    {
        $context = stream_context_create(array('http' => array(
            'method' => 'POST',
            'header' => implode("\r\n", $headers),
            'content' => $body,
            'timeout' => self::TIMEOUT,
            'ignore_errors' => true,
            'follow_location' => 0,
        )));
        $answer = @file_get_contents($url, false, $context);
        $status = 0;
        if (isset($http_response_header[0]) && preg_match('#^HTTP/\S+\s+(\d{3})#', $http_response_header[0], $match)) {
            $status = (int) $match[1];
        }
        return array($status, $status === 0 ? ($answer === false ? 'no answer' : 'bad answer') : null);
    }

    private static function log($message)
    {
        if (class_exists('PrestaShopLogger')) {
            PrestaShopLogger::addLog($message, 2, null, 'BridgeHints');
        }
    }

    // -- configuration page --------------------------------------------------------------------

    /** The module's configuration page: bridge's webhook URL, the shared secret, and a test hint. */
    public function getContent()
    {
        $output = '';
        if (Tools::isSubmit('submitBridgeHints')) {
            $output .= $this->saveSettings();
        } elseif (Tools::isSubmit('testBridgeHints')) {
            $output .= $this->sendTest();
        }
        return $output . $this->renderForm();
    }

    private function saveSettings()
    {
        $url = trim((string) Tools::getValue(self::CONFIG_URL));
        $secret = (string) Tools::getValue(self::CONFIG_SECRET);
        if (!self::isWebhookUrl($url)) {
            return $this->displayError($this->l('The URL must be bridge\'s webhook address for this shop, like https://bridge.example/webhooks/myshop'));
        }
        if ($secret !== '' && strlen($secret) < self::MIN_SECRET) {
            return $this->displayError(sprintf($this->l('The secret must be at least %d characters: the same value as prestashop.hint_secret in bridge\'s configuration.'), self::MIN_SECRET));
        }
        Configuration::updateValue(self::CONFIG_URL, $url);
        if ($secret !== '') {  // an empty field keeps the secret already saved (it is never shown again)
            Configuration::updateValue(self::CONFIG_SECRET, $secret);
        }
        return $this->displayConfirmation($this->l('Settings saved.'));
    }

    private function sendTest()
    {
        list($status, $error) = $this->send('ping', 0);
        if ($status >= 200 && $status < 300) {
            return $this->displayConfirmation($this->l('bridge accepted the test hint.'));
        }
        if ($status === 401) {
            return $this->displayError($this->l('bridge refused the signature: the secret here and prestashop.hint_secret in bridge differ.'));
        }
        $why = $error !== null ? $error : 'HTTP ' . $status;
        return $this->displayError($this->l('bridge did not accept the test hint:') . ' ' . self::escape($why));
    }

    /** Whether a URL is an http(s) address ending in /webhooks/<shop id>. */
    public static function isWebhookUrl($url)
    {
        return (bool) preg_match('~^https?://[^/\s?#]+(/[^\s?#]*)?/webhooks/[a-z0-9][a-z0-9_-]*$~', $url);
    }

    private function renderForm()
    {
        $action = AdminController::$currentIndex . '&configure=' . urlencode($this->name)
            . '&token=' . Tools::getAdminTokenLite('AdminModules');
        $url = (string) Configuration::get(self::CONFIG_URL);
        $hasSecret = (string) Configuration::get(self::CONFIG_SECRET) !== '';
        return '<form method="post" action="' . self::escape($action) . '" class="defaultForm form-horizontal">'
            . '<div class="panel"><div class="panel-heading">' . self::escape($this->displayName) . '</div>'
            . '<p>' . self::escape($this->l('Give bridge\'s webhook address for this shop and the secret set as prestashop.hint_secret in bridge\'s configuration.')) . '</p>'
            . '<div class="form-group"><label class="control-label col-lg-3" for="bridgehints-url">' . self::escape($this->l('Webhook URL')) . '</label>'
            . '<div class="col-lg-9"><input type="url" id="bridgehints-url" name="' . self::CONFIG_URL . '" value="' . self::escape($url) . '" placeholder="https://bridge.example/webhooks/myshop" required></div></div>'
            . '<div class="form-group"><label class="control-label col-lg-3" for="bridgehints-secret">' . self::escape($this->l('Secret')) . '</label>'
            . '<div class="col-lg-9"><input type="password" id="bridgehints-secret" name="' . self::CONFIG_SECRET . '" value="" autocomplete="off" placeholder="'
            . self::escape($hasSecret ? $this->l('saved (leave empty to keep it)') : $this->l('at least 32 characters')) . '"></div></div>'
            . '<div class="panel-footer"><button type="submit" name="submitBridgeHints" class="btn btn-default pull-right">' . self::escape($this->l('Save')) . '</button>'
            . '<button type="submit" name="testBridgeHints" class="btn btn-default">' . self::escape($this->l('Send a test hint')) . '</button></div>'
            . '</div></form>';
    }

    private static function escape($text)
    {
        return htmlspecialchars((string) $text, ENT_QUOTES, 'UTF-8');
    }
}

<?php
/**
 * The share code a shopper came with, kept per cart while they shop and per order once it is validated
 * (id_order 0: a cart not ordered yet). Read by bridge through the Webservice resource bridge_order_codes
 * (GET only), so that an order is attributed even when its confirmation page never runs bridge's widget.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class BridgeOrderCode extends ObjectModel
{
    /** @var int */
    public $id_cart;
    /** @var int */
    public $id_order;
    /** @var string CODE or CODE.TAG */
    public $code;
    /** @var string */
    public $date_add;

    public static $definition = array(
        'table' => 'bridge_order_code',
        'primary' => 'id_bridge_order_code',
        'fields' => array(
            'id_cart' => array('type' => self::TYPE_INT, 'validate' => 'isUnsignedId', 'required' => true),
            'id_order' => array('type' => self::TYPE_INT, 'validate' => 'isUnsignedInt'),
            'code' => array('type' => self::TYPE_STRING, 'validate' => 'isGenericName', 'required' => true, 'size' => 65),
            'date_add' => array('type' => self::TYPE_DATE, 'validate' => 'isDate'),
        ),
    );

    protected $webserviceParameters = array('objectsNodeName' => 'bridge_order_codes', 'objectNodeName' => 'bridge_order_code');

    /** The table, created by install() and by upgrade-1.2.0.php (nothing happens if it is there). */
    public static function createTable()
    {
        return Db::getInstance()->execute('CREATE TABLE IF NOT EXISTS `' . _DB_PREFIX_ . 'bridge_order_code` ('
            . '`id_bridge_order_code` INT UNSIGNED NOT NULL AUTO_INCREMENT, `id_cart` INT UNSIGNED NOT NULL,'
            . ' `id_order` INT UNSIGNED NOT NULL DEFAULT 0, `code` VARCHAR(65) NOT NULL, `date_add` DATETIME NOT NULL,'
            . ' PRIMARY KEY (`id_bridge_order_code`), UNIQUE KEY `cart_order` (`id_cart`, `id_order`), KEY `id_order` (`id_order`)'
            . ') ENGINE=' . _MYSQL_ENGINE_ . ' DEFAULT CHARSET=utf8mb4');
    }

    public static function dropTable()
    {
        return Db::getInstance()->execute('DROP TABLE IF EXISTS `' . _DB_PREFIX_ . 'bridge_order_code`');
    }

    /** Keep (or replace) the code of a cart not ordered yet. */
    public static function keepForCart($idCart, $code)
    {
        return Db::getInstance()->execute('INSERT INTO `' . _DB_PREFIX_ . 'bridge_order_code` (`id_cart`, `id_order`, `code`, `date_add`)'
            . ' VALUES (' . (int) $idCart . ', 0, \'' . pSQL($code) . '\', NOW()) ON DUPLICATE KEY UPDATE `code` = VALUES(`code`)');
    }

    /** The code kept for a cart, or null. */
    public static function ofCart($idCart)
    {
        $code = Db::getInstance()->getValue('SELECT `code` FROM `' . _DB_PREFIX_ . 'bridge_order_code` WHERE `id_cart` = '
            . (int) $idCart . ' AND `id_order` = 0');
        return $code ? (string) $code : null;
    }

    /** Store the code with a validated order, once (a split cart gives each of its orders a row). */
    public static function storeForOrder($idOrder, $idCart, $code)
    {
        return Db::getInstance()->execute('INSERT IGNORE INTO `' . _DB_PREFIX_ . 'bridge_order_code` (`id_cart`, `id_order`, `code`, `date_add`)'
            . ' VALUES (' . (int) $idCart . ', ' . (int) $idOrder . ', \'' . pSQL($code) . '\', NOW())');
    }
}

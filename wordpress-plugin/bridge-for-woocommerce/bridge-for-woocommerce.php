<?php
/**
 * Plugin Name:       bridge for WooCommerce
 * Plugin URI:        https://github.com/bridge-referral/bridge
 * Description:       Puts bridge's share-and-earn widget on every page and on the order-received page, and stores the share code a shopper came with on their order, so that bridge attributes it even when the thank-you page never runs the widget.
 * Version:           1.0.0
 * Requires at least: 6.2
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * Author:            bridge
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       bridge-for-woocommerce
 * WC requires at least: 8.0
 *
 * The share code is the one bridge's widget keeps in a first-party cookie (`bridge_<shop>`, "CODE.TAG|expiry
 * in ms") when a shopper arrives through a share link. At checkout (classic and block) the plugin copies it,
 * if it has not expired, into the order's meta `_bridge_code`; bridge reads it from the order through the REST
 * API like every other fact. Nothing is sent anywhere by this plugin.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Bridge_For_WooCommerce {
	const OPTION = 'bridge_for_woocommerce';
	const META   = '_bridge_code';
	const CODE   = '/^([0-9A-Za-z]{8,32}(?:\.[0-9A-Za-z]{8,32})?)\|(\d{10,16})$/';
	const SHOP   = '/^[a-z0-9][a-z0-9_-]{0,63}$/';

	/** Hook everything in; the settings page only in the back office. */
	public static function boot() {
		add_action( 'wp_footer', array( __CLASS__, 'print_widget' ), 100 );
		// After the order details (priority 10): the widget comes last, so that nothing below it moves.
		add_action( 'woocommerce_thankyou', array( __CLASS__, 'print_place' ), 20 );
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'store_code' ) );
		add_action( 'woocommerce_store_api_checkout_update_order_meta', array( __CLASS__, 'store_code_and_save' ) );
		add_action( 'before_woocommerce_init', array( __CLASS__, 'declare_compatibility' ) );
		if ( is_admin() ) {
			add_action( 'admin_menu', array( __CLASS__, 'add_settings_page' ), 60 );
			add_action( 'admin_init', array( __CLASS__, 'register_settings' ) );
			add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), array( __CLASS__, 'settings_link' ) );
		}
	}

	/** The saved settings: bridge's public address and the shop's id in bridge's configuration. */
	public static function settings() {
		$saved = get_option( self::OPTION, array() );
		return array(
			'address' => isset( $saved['address'] ) ? (string) $saved['address'] : '',
			'shop'    => isset( $saved['shop'] ) ? (string) $saved['shop'] : '',
		);
	}

	/** Whether both settings are there (nothing is printed or stored before). */
	public static function configured() {
		$settings = self::settings();
		return '' !== $settings['address'] && preg_match( self::SHOP, $settings['shop'] );
	}

	/** Every page: the one line `bridge snippet` prints. */
	public static function print_widget() {
		if ( ! self::configured() ) {
			return;
		}
		$settings = self::settings();
		wp_print_script_tag(
			array(
				'src'       => $settings['address'] . '/widget.js',
				'data-shop' => $settings['shop'],
				'async'     => true,
			)
		);
	}

	/** The order-received page (classic template and the Order Confirmation block): where the widget draws. */
	public static function print_place() {
		if ( self::configured() ) {
			echo '<div data-bridge-widget style="display: flow-root; clear: both"></div>';  // below the theme's floated columns
		}
	}

	/** The share code of the shopper's cookie, if it is well-formed and has not expired; else null. */
	public static function cookie_code() {
		$settings = self::settings();
		$name     = 'bridge_' . $settings['shop'];
		if ( ! self::configured() || ! isset( $_COOKIE[ $name ] ) ) {
			return null;
		}
		$value = sanitize_text_field( wp_unslash( $_COOKIE[ $name ] ) );
		if ( ! preg_match( self::CODE, $value, $match ) || (float) $match[2] < microtime( true ) * 1000 ) {
			return null;
		}
		return strtoupper( $match[1] );
	}

	/** Classic checkout: the order is saved right after this hook. */
	public static function store_code( $order ) {
		$code = self::cookie_code();
		if ( null !== $code && $order instanceof WC_Order ) {
			$order->update_meta_data( self::META, $code );
		}
	}

	/** Block checkout (Store API): the draft order exists already, so its meta is saved here. */
	public static function store_code_and_save( $order ) {
		$code = self::cookie_code();
		if ( null !== $code && $order instanceof WC_Order ) {
			$order->update_meta_data( self::META, $code );
			$order->save_meta_data();
		}
	}

	/** The plugin stores order meta through WooCommerce's CRUD only: it works with HPOS. */
	public static function declare_compatibility() {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', __FILE__, true );
		}
	}

	// -- settings page (WooCommerce > bridge) ---------------------------------------------------

	public static function add_settings_page() {
		add_submenu_page( 'woocommerce', 'bridge', 'bridge', 'manage_woocommerce', 'bridge-for-woocommerce', array( __CLASS__, 'render_settings_page' ) );
	}

	public static function settings_link( $links ) {
		$url = admin_url( 'admin.php?page=bridge-for-woocommerce' );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'bridge-for-woocommerce' ) . '</a>' );
		return $links;
	}

	public static function register_settings() {
		register_setting(
			'bridge_for_woocommerce',
			self::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array( 'address' => '', 'shop' => '' ),
			)
		);
	}

	/** Keep only a valid http(s) address (no path end slash) and shop id; say what was wrong. */
	public static function sanitize( $input ) {
		$old     = self::settings();
		$address = isset( $input['address'] ) ? untrailingslashit( esc_url_raw( trim( (string) $input['address'] ), array( 'http', 'https' ) ) ) : '';
		$shop    = isset( $input['shop'] ) ? strtolower( trim( (string) $input['shop'] ) ) : '';
		if ( ! preg_match( '~^https?://[^/\s?#]+(/[^\s?#]*)?$~', $address ) ) {
			add_settings_error( self::OPTION, 'address', __( 'The bridge address must be a web address like https://bridge.example.com (the public_url of bridge\'s configuration).', 'bridge-for-woocommerce' ) );
			return $old;
		}
		if ( ! preg_match( self::SHOP, $shop ) ) {
			add_settings_error( self::OPTION, 'shop', __( 'The shop id must be the id of this shop in bridge\'s configuration: lower-case letters, digits, - and _.', 'bridge-for-woocommerce' ) );
			return $old;
		}
		return array( 'address' => $address, 'shop' => $shop );
	}

	public static function render_settings_page() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		$settings = self::settings();
		echo '<div class="wrap"><h1>' . esc_html__( 'bridge for WooCommerce', 'bridge-for-woocommerce' ) . '</h1>';
		settings_errors();  // only the Settings menu's own pages show them by themselves
		echo '<p>' . esc_html__( 'Give the address of your bridge and the id of this shop in its configuration. The plugin then adds bridge\'s widget to every page and to the order-received page, and stores the share code a shopper came with on their order.', 'bridge-for-woocommerce' ) . '</p>';
		echo '<form method="post" action="options.php">';
		settings_fields( 'bridge_for_woocommerce' );
		echo '<table class="form-table" role="presentation"><tr><th scope="row"><label for="bridge-address">' . esc_html__( 'bridge address', 'bridge-for-woocommerce' ) . '</label></th>';
		echo '<td><input type="url" class="regular-text" id="bridge-address" name="' . esc_attr( self::OPTION ) . '[address]" value="' . esc_attr( $settings['address'] ) . '" placeholder="https://bridge.example.com" required></td></tr>';
		echo '<tr><th scope="row"><label for="bridge-shop">' . esc_html__( 'Shop id', 'bridge-for-woocommerce' ) . '</label></th>';
		echo '<td><input type="text" class="regular-text" id="bridge-shop" name="' . esc_attr( self::OPTION ) . '[shop]" value="' . esc_attr( $settings['shop'] ) . '" placeholder="myshop" pattern="[a-z0-9][a-z0-9_\-]{0,63}" required></td></tr></table>';
		submit_button();
		echo '</form>';
		if ( self::configured() ) {
			echo '<p>' . esc_html__( 'Every page now carries:', 'bridge-for-woocommerce' ) . ' <code>' . esc_html( '<script src="' . $settings['address'] . '/widget.js" data-shop="' . $settings['shop'] . '" async></script>' ) . '</code></p>';
		}
		echo '</div>';
	}
}

Bridge_For_WooCommerce::boot();

<?php
/** Uninstalling removes the plugin's settings; the share codes stored on orders stay (they are order history). */
if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}
delete_option( 'bridge_for_woocommerce' );

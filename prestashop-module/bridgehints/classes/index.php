<?php
// No listing of the module's folder (PrestaShop's convention for every module directory).
header('Expires: Mon, 26 Jul 1997 05:00:00 GMT');
header('Cache-Control: no-store, no-cache, must-revalidate');
header('Location: ../');
exit;

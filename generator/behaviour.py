"""The behavioural model: channels, devices, personas, categories and funnel probabilities.

These numbers are the generator's truth. The answer key records the per-day values derived from them,
and the truth tests check that the marts recover them.
"""

from __future__ import annotations

import numpy as np

CHANNELS = ("organic_search", "paid_search", "social", "email", "direct", "referral")
# Channel mix of first visits (anonymous and signing-up visitors) and of returning users' visits.
CHANNEL_MIX_NEW = np.array([0.32, 0.22, 0.20, 0.04, 0.14, 0.08])
CHANNEL_MIX_RETURNING = np.array([0.20, 0.12, 0.10, 0.25, 0.28, 0.05])

DEVICES = ("mobile", "desktop", "tablet")
DEVICE_MIX = np.array([0.58, 0.35, 0.07])

SESSION_TYPES = ("anonymous", "new", "returning")
# The day's traffic follows the calendar: `sessions_per_day x traffic multiplier` expected sessions. Of them a
# share are visitors who sign up; the alive customers visit at their own rates (see Customers); prospects who do
# not sign in (anonymous) make up the rest, at least ANONYMOUS_FLOOR_SHARE of the calendar's traffic.
NEW_USER_SHARE = 0.10  # of expected sessions: visitors who sign up in this session
ANONYMOUS_FLOOR_SHARE = 0.25

# Customers (generator/customers.py): latent traits, a pure function of (seed, user id).
# Visit rate while alive, in returning visits per day at calendar multiplier 1 (seasonality x weekday x sale):
# Gamma(shape, mean), stratified on VISIT_RATE_LEVELS levels. Shape near the CDNOW Pareto/NBD fit (r = 0.55).
VISIT_RATE_SHAPE = 0.4
VISIT_RATE_MEAN = 0.08
VISIT_RATE_LEVELS = 128
# Lifetime: exponential with a Gamma(s, beta)-distributed dropout rate, i.e. Lomax(s, beta) days: median
# beta * (2 ** (1 / s) - 1), mean beta / (s - 1).
LIFETIME_SHAPE = 1.6
LIFETIME_SCALE_DAYS = 60.0
# Purchase propensity: multiplies a signed-in session's add-to-cart probability; Gamma(shape), mean 1.
PURCHASE_PROPENSITY_SHAPE = 0.5
# Spend level: a cart line holds 1 + Poisson(spend level x EXTRA_UNIT_RATE) units; Gamma(shape), mean 1. The
# spread puts the top 20% of buyers near three quarters of the revenue (the Pareto band of bench/realism.py).
SPEND_LEVEL_SHAPE = 0.2
EXTRA_UNIT_RATE = 0.7
# The mean order subtotal at one unit per line, before discounts, in cents: the shop's product mix (intent
# categories, popularity, prices, the complements that join carts), the same for every user. Estimated from
# generated orders (small, seed 42, the demo window: 15,155 orders, 1.68 lines each); the per-user truth multiplies
# it by the user's units per line (see generator/truth.py).
UNIT_BASKET_CENTS = 15_400.0
ANONYMOUS_CART = 0.5  # add-to-cart multiplier of visitors who are not signed in (propensity 1)

# Personas are coarse groups over the traits: a power buyer visits and buys at least POWER_BUYER_SCORE times the
# average (visit rate / mean x propensity), a browser has a propensity under BROWSER_PROPENSITY.
PERSONAS = ("power_buyer", "standard", "browser")
POWER_BUYER_SCORE = 3.0
BROWSER_PROPENSITY = 0.4

# Users: gender (female, male, nonbinary), whose first name is female or male; age in years at signup is
# Gamma(shape, scale) + offset, clipped to the range.
GENDER_MIX = np.array([0.49, 0.49, 0.02])
NONBINARY_FEMALE_NAME_SHARE = 0.5
AGE_GAMMA = (6.0, 6.0)
AGE_OFFSET_YEARS = 16
AGE_RANGE_YEARS = (18, 85)

# Base stage probabilities (each conditional on reaching the previous stage) and their multipliers.
BASE_VIEW = 0.55  # landing page -> at least one product view (the rest bounce)
BASE_CART = 0.20  # product view -> add to cart
BASE_CHECKOUT = 0.62  # cart -> checkout
BASE_PURCHASE = 0.80  # checkout -> purchase
CHANNEL_VIEW = np.array([1.0, 1.05, 0.85, 1.1, 1.05, 0.95])
CHANNEL_CART = np.array([1.0, 1.1, 0.7, 1.35, 1.2, 0.95])
CHANNEL_PURCHASE = np.array([1.0, 1.05, 0.9, 1.1, 1.1, 1.0])
DEVICE_VIEW = np.array([0.95, 1.08, 1.0])
DEVICE_CART = np.array([0.85, 1.2, 1.0])
DEVICE_CHECKOUT = np.array([0.85, 1.15, 1.0])
DEVICE_PURCHASE = np.array([0.9, 1.08, 1.0])
MAX_STAGE_PROBABILITY = 0.95

MEAN_PRODUCT_VIEWS = 4.0  # per session that views products (1 + geometric)
EXTRA_ADD_PROBABILITY = 0.22  # each further viewed product is also added to the cart
REMOVE_PROBABILITY = 0.18  # a cart with two or more lines loses one before checkout
MEAN_EVENT_GAP_SECONDS = 38.0  # exponential gaps between a session's events, plus the minimum
MIN_EVENT_GAP_SECONDS = 2.0
MEAN_EXTRA_PAGES = 1.2  # Poisson: further page views of a session that views products
MAX_PRODUCT_VIEWS = 20

PAYMENT_METHODS = ("card", "paypal", "apple_pay", "google_pay", "gift_card")
PAYMENT_MIX = np.array([0.52, 0.22, 0.14, 0.09, 0.03])
SHIPPING_METHODS = ("standard", "express", "pickup")
SHIPPING_MIX = np.array([0.72, 0.2, 0.08])
FREE_SHIPPING_FROM_CENTS = 50_00
SHIPPING_COST_CENTS = {"standard": 4_99, "express": 12_99, "pickup": 0}
COUPON_SHARE = 0.08  # orders with a 10% coupon outside sale events
COUPON_RATE = 0.10

CANCEL_PROBABILITY = 0.045  # cancelled 1..3 days after the order
CANCEL_DELAY_DAYS = (1, 3)
RETURN_DELAY_DAYS = (5, 30)
LATE_CHANGE_HORIZON_DAYS = RETURN_DELAY_DAYS[1]
STATUS_CHANGE_HOURS = (8, 22)  # cancellations and returns are recorded in these UTC hours

# department, category, median price in dollars, cart affinity, return probability, nouns.
# The cart affinity multiplies the chance that a session shopping the category adds to its cart (and weights
# which viewed products are added); the return probability applies to orders whose first line is of the
# category (see `order_fates`).
CATEGORIES = (
    ("Fashion", "Apparel", 38, 1.2, 0.24, ("T-Shirt", "Hoodie", "Jeans", "Dress", "Jacket", "Sweater")),
    ("Fashion", "Shoes", 85, 1.0, 0.20, ("Sneakers", "Boots", "Sandals", "Loafers", "Running Shoes")),
    ("Fashion", "Accessories", 29, 1.1, 0.08, ("Backpack", "Wallet", "Belt", "Sunglasses", "Scarf")),
    ("Electronics", "Phones", 480, 0.55, 0.07, ("Smartphone", "Phone Case", "Charger", "Power Bank")),
    ("Electronics", "Computers", 820, 0.45, 0.06, ("Laptop", "Monitor", "Keyboard", "Mouse", "Tablet")),
    ("Electronics", "Audio", 120, 0.8, 0.09, ("Headphones", "Earbuds", "Speaker", "Soundbar")),
    ("Home", "Kitchen", 45, 1.0, 0.04, ("Pan", "Knife Set", "Blender", "Coffee Maker", "Mug Set")),
    ("Home", "Furniture", 260, 0.5, 0.10, ("Desk", "Chair", "Bookshelf", "Side Table", "Sofa")),
    ("Home", "Decor", 32, 1.0, 0.05, ("Lamp", "Vase", "Rug", "Frame", "Candle")),
    ("Beauty", "Skincare", 24, 1.3, 0.03, ("Moisturizer", "Serum", "Cleanser", "Sunscreen")),
    ("Beauty", "Makeup", 19, 1.3, 0.03, ("Lipstick", "Mascara", "Foundation", "Palette")),
    ("Sports", "Fitness", 48, 0.9, 0.06, ("Yoga Mat", "Dumbbells", "Resistance Bands", "Jump Rope")),
    ("Sports", "Outdoor", 95, 0.8, 0.08, ("Tent", "Sleeping Bag", "Hiking Poles", "Water Bottle")),
    ("Media", "Books", 16, 1.4, 0.02, ("Novel", "Cookbook", "Biography", "Guide", "Comic")),
    ("Media", "Games", 55, 1.0, 0.03, ("Board Game", "Video Game", "Puzzle", "Card Game")),
)
CATEGORY_SHARE = np.array([14, 8, 8, 4, 4, 6, 8, 5, 8, 7, 7, 6, 5, 6, 4], dtype=float)
CATEGORY_SHARE /= CATEGORY_SHARE.sum()
CATEGORY_CART = np.array([c[3] for c in CATEGORIES])
CATEGORY_RETURN = np.array([c[4] for c in CATEGORIES])
DEPARTMENTS = tuple(dict.fromkeys(c[0] for c in CATEGORIES))
# Which department a session shops (its intent) leans on its device and channel: desktops shop electronics
# and furniture, phones fashion and beauty, social ads sell fashion and beauty, search sells electronics.
# Rows follow DEVICES / CHANNELS, columns DEPARTMENTS (Fashion, Electronics, Home, Beauty, Sports, Media).
DEVICE_DEPARTMENT = np.array(
    [[1.25, 0.70, 0.85, 1.30, 1.00, 1.00],
     [0.75, 1.60, 1.25, 0.70, 1.00, 0.95],
     [0.90, 0.90, 1.20, 0.90, 0.90, 1.50]]
)  # fmt: skip
CHANNEL_DEPARTMENT = np.array(
    [[1.00, 1.10, 1.05, 0.90, 1.00, 1.00],
     [0.90, 1.40, 1.00, 0.85, 1.00, 0.90],
     [1.50, 0.70, 0.80, 1.50, 1.00, 0.90],
     [1.10, 0.90, 1.10, 1.10, 0.90, 1.10],
     [1.00, 1.00, 1.00, 1.00, 1.00, 1.00],
     [0.90, 1.10, 1.00, 1.00, 1.20, 1.10]]
)  # fmt: skip
CATEGORY_DEPARTMENT = np.array([DEPARTMENTS.index(c[0]) for c in CATEGORIES])
INTENT_VIEW_SHARE = 0.7  # product views after the first stay in the session's intent category this often
INTENT_LANDING_SHARE = 0.4  # non-product pages that are the intent category's page
PRICE_SIGMA = 0.45  # lognormal spread of prices within a category
WEEKLY_PRICE_CHANGE = 0.06  # each product's price moves up to +-6% from week to week
MARGIN_RANGE = (0.35, 0.65)  # cost as a share of the launch price
# Zipf-like popularity from a hashed rank u in [0, 1): 1 / (1 + u * RANKS) ** EXPONENT.
POPULARITY_RANKS = 100_000.0
POPULARITY_EXPONENT = 1.4


def clip_probability(p: np.ndarray) -> np.ndarray:
    return np.minimum(p, MAX_STAGE_PROBABILITY)


def intent_weights(device: int, channel: int) -> np.ndarray:
    """Probabilities of each category being a session's intent, for one (device, channel)."""
    w = CATEGORY_SHARE * (DEVICE_DEPARTMENT[device] * CHANNEL_DEPARTMENT[channel])[CATEGORY_DEPARTMENT]
    return w / w.sum()


def stage_probabilities(
    channel: np.ndarray,
    device: np.ndarray,
    session_type: np.ndarray,
    propensity: np.ndarray,
    intent: np.ndarray,
    conversion_multiplier: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-session conditional probabilities of reaching view, cart, checkout and purchase.

    `propensity` is the signed-in user's purchase propensity (1 for anonymous visitors); `intent` is the
    category the session shops. Anonymous visitors never reach checkout: checking out needs an account.
    """
    anonymous = session_type == SESSION_TYPES.index("anonymous")
    person_cart = np.where(anonymous, ANONYMOUS_CART, propensity)
    p_view = clip_probability(BASE_VIEW * CHANNEL_VIEW[channel] * DEVICE_VIEW[device])
    p_cart = clip_probability(
        BASE_CART
        * CHANNEL_CART[channel]
        * DEVICE_CART[device]
        * CATEGORY_CART[intent]
        * person_cart
        * conversion_multiplier
    )
    p_checkout = clip_probability(BASE_CHECKOUT * DEVICE_CHECKOUT[device])
    p_checkout = np.where(anonymous, 0.0, p_checkout)
    p_purchase = clip_probability(
        BASE_PURCHASE * CHANNEL_PURCHASE[channel] * DEVICE_PURCHASE[device] * np.sqrt(conversion_multiplier)
    )
    return p_view, p_cart, p_checkout, p_purchase

#!/usr/bin/env python3
"""Build the packaged demo dataset ``support_qa.csv`` (and ``DEFECTS.md``).

A customer-support Q&A set for "Skyward", a fictional maker of home weather
stations and a companion app. Hand-written question/answer templates with slots
are filled deterministically, then a fixed set of data-quality defects is planted
so that the data-quality checks, tests and tutorials have something to find.

Standard library only. Deterministic: running it again rewrites byte-identical
files. Usage::

    python3 docs/make_demo.py

Columns: id, question, answer, topic, persona, age_group.
The CSV and DEFECTS.md (the planted defects and their row ids) are written into
``workbench/demo/``, where the package ships them; this script itself is not installed.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from random import Random

SEED = 20261122
HERE = Path(__file__).resolve().parents[1] / "workbench" / "demo"
CSV_PATH = HERE / "support_qa.csv"
DEFECTS_PATH = HERE / "DEFECTS.md"

COLUMNS = ["id", "question", "answer", "topic", "persona", "age_group"]
TOPICS = ["billing", "shipping", "setup", "troubleshooting", "weather", "account"]
PERSONAS = ["woman", "man", "nonbinary"]
AGE_GROUPS = ["18-29", "30-49", "50-69", "70+"]
CLEAN_PER_TOPIC = 56

# ----------------------------------------------------------------------------- slots
# Each slot group is a list of dicts; one dict is drawn per filled template, so
# related fields (a plan and its price, a country and its carrier) stay consistent.


def _one(key, values):
    return [{key: v} for v in values]


CITIES = ["Lisbon", "Denver", "Toronto", "Glasgow", "Melbourne", "Austin", "Oslo", "Seattle",
          "Dublin", "Porto", "Chicago", "Edinburgh", "Vancouver", "Madrid", "Boston", "Auckland"]

GROUPS: dict[str, list[dict[str, str]]] = {
    "model": _one("model", ["Skyward S2", "Skyward Mini", "Skyward Pro"]),
    "city": _one("city", CITIES),
    "plan": [
        {"plan": "Skyward Plus", "price": "$4.99",
         "plan_features": "10-day forecasts, custom alerts and one year of history"},
        {"plan": "Skyward Premium", "price": "$9.99",
         "plan_features": "15-day forecasts, unlimited alerts, data export and full history"},
    ],
    "accessory": _one("accessory", ["solar panel kit", "mounting pole", "spare rain gauge",
                                    "indoor display", "radiation shield"]),
    "relative": _one("relative", ["dad", "mum", "sister", "brother", "neighbour",
                                  "grandmother", "son", "daughter", "partner"]),
    "country": [
        {"country": "Canada", "ship_days": "5 to 7", "express_price": "$24",
         "express_days": "2 to 3", "carrier": "Canada Post"},
        {"country": "Ireland", "ship_days": "4 to 6", "express_price": "€18",
         "express_days": "2", "carrier": "DHL"},
        {"country": "Portugal", "ship_days": "5 to 8", "express_price": "€20",
         "express_days": "2 to 3", "carrier": "DHL"},
        {"country": "Australia", "ship_days": "8 to 12", "express_price": "$39",
         "express_days": "4 to 5", "carrier": "FedEx"},
        {"country": "Germany", "ship_days": "3 to 5", "express_price": "€15",
         "express_days": "1 to 2", "carrier": "DHL"},
        {"country": "the UK", "ship_days": "3 to 5", "express_price": "£15",
         "express_days": "1 to 2", "carrier": "Royal Mail"},
        {"country": "the United States", "ship_days": "3 to 5", "express_price": "$19",
         "express_days": "1 to 2", "carrier": "UPS"},
    ],
    "ret_carrier": _one("ret_carrier", ["UPS", "DHL", "FedEx", "Royal Mail", "Canada Post"]),
    "holiday": _one("holiday", ["Christmas", "Mother's Day", "Father's Day", "Thanksgiving"]),
    "sensor": [
        {"sensor": "rain gauge",
         "placement": "on a level spot at least 1 metre off the ground, away from trees and roof edges"},
        {"sensor": "wind sensor",
         "placement": "as high as possible, ideally 2 metres above the roof line with nothing blocking it"},
        {"sensor": "temperature probe",
         "placement": "in the shade about 1.5 metres above grass, away from walls and paving"},
        {"sensor": "humidity sensor",
         "placement": "in a shaded, ventilated spot away from sprinklers and dryer vents"},
    ],
    "units": [
        {"unit_from_to": "Fahrenheit to Celsius", "unit_to": "Celsius"},
        {"unit_from_to": "Celsius to Fahrenheit", "unit_to": "Fahrenheit"},
        {"unit_from_to": "mph to km/h", "unit_to": "km/h"},
        {"unit_from_to": "inches to millimetres", "unit_to": "millimetres"},
    ],
    "assistant": _one("assistant", ["Google Home", "Amazon Alexa", "Apple HomeKit",
                                    "Home Assistant"]),
    "condition": _one("condition", ["frost", "strong wind", "heavy rain", "high heat", "high UV"]),
    "station_name": _one("station_name", ["Garden", "Roof", "Cabin", "Allotment", "Backyard",
                                          "Balcony"]),
    "err": [
        {"err_code": "E101", "err_meaning": "the base station has lost contact with the outdoor sensor",
         "err_fix": "replace the sensor batteries and tap Devices > Sensors > Pair sensor to reconnect it"},
        {"err_code": "E204", "err_meaning": "the station could not sign in to your Wi-Fi network",
         "err_fix": "re-enter your Wi-Fi password under Devices > Wi-Fi settings and check the network is 2.4 GHz"},
        {"err_code": "E310", "err_meaning": "a firmware update was interrupted",
         "err_fix": "keep the station powered, then open Devices > Firmware and tap Retry update"},
        {"err_code": "E402", "err_meaning": "the outdoor sensor battery is critically low",
         "err_fix": "fit two fresh AA lithium batteries and wipe the solar panel clean"},
        {"err_code": "E517", "err_meaning": "the rain gauge tipping bucket is stuck",
         "err_fix": "remove the funnel, clear any leaves or debris and check the bucket tips freely"},
    ],
    "screen": _one("screen", ["Forecast", "History", "Alerts", "Dashboard", "Devices"]),
    "pct": _one("pct", ["0", "5", "10", "12"]),
    "phone": _one("phone", ["iPhone", "Android phone", "iPad", "Samsung tablet"]),
    "sso": _one("sso", ["Google", "Apple", "Microsoft"]),
    "language": _one("language", ["Spanish", "French", "German", "Portuguese", "Italian"]),
    "fmt": [{"fmt": "24-hour", "fmt_eg": "18:30"}, {"fmt": "12-hour", "fmt_eg": "6:30 pm"}],
    "stmt": [
        {"stmt_price": "$4.99", "stmt_when": "every month", "stmt_plan": "monthly Skyward Plus"},
        {"stmt_price": "$99.99", "stmt_when": "once a year", "stmt_plan": "annual Skyward Premium"},
    ],
    "day": [
        {"day_q": "tomorrow", "day_a": "tomorrow"},
        {"day_q": "this weekend", "day_a": "this weekend"},
        {"day_q": "on Friday", "day_a": "Friday"},
        {"day_q": "on Saturday", "day_a": "Saturday"},
        {"day_q": "on Sunday", "day_a": "Sunday"},
        {"day_q": "next Monday", "day_a": "next Monday"},
        {"day_q": "on Wednesday", "day_a": "Wednesday"},
    ],
    # forecast phrases for the weather topic
    "rain": [
        {"rain_fc": "a 70% chance of showers, heaviest around midday", "rain_adv": "it's worth taking an umbrella"},
        {"rain_fc": "mostly dry with only a 10% chance of a passing shower", "rain_adv": "you can probably leave the umbrella at home"},
        {"rain_fc": "steady rain with about 12 mm expected", "rain_adv": "plan for a wet day and waterproof shoes"},
        {"rain_fc": "a 40% chance of light drizzle", "rain_adv": "a light rain jacket should be enough"},
        {"rain_fc": "scattered showers with sunny spells", "rain_adv": "keep an umbrella handy just in case"},
    ],
    "temp": _one("temp_fc", ["a high of 22°C and a low of 14°C", "a high of 8°C with a cold night near 1°C",
                             "a warm high of 29°C and a low of 18°C", "a high of 15°C and a low of 9°C",
                             "a high of 3°C and a low of minus 4°C"]),
    "snow": _one("snow_fc", ["no snow, just cold and clear skies", "light snow flurries with under 1 cm settling",
                             "2 to 5 cm of snow from late evening", "a rain and snow mix that is unlikely to settle"]),
    "wind": _one("wind_fc", ["a light breeze around 10 km/h", "gusts up to 60 km/h from the west, so secure garden furniture",
                             "moderate winds of 25 km/h easing in the evening", "calm conditions most of the day"]),
    "feels": [
        {"feels_fc": "it will feel like 9°C", "jacket_adv": "a warm jacket is a good idea"},
        {"feels_fc": "it will feel like 24°C", "jacket_adv": "a light layer should be plenty"},
        {"feels_fc": "it will feel like 15°C with a breeze", "jacket_adv": "bring a light jacket for the evening"},
        {"feels_fc": "it will feel like minus 2°C", "jacket_adv": "wrap up with a coat, hat and gloves"},
    ],
    "frost": _one("frost_fc", ["a ground frost likely before dawn with lows near minus 1°C", "lows of 5°C, so frost is unlikely",
                               "a hard frost with lows around minus 5°C, so protect tender plants",
                               "a slight risk of frost in sheltered spots"]),
    "storm": _one("storm_fc", ["a 30% chance of afternoon thunderstorms", "no storms expected, just a few clouds",
                               "a high risk of thunderstorms with heavy downpours in the evening",
                               "isolated storms possible inland"]),
    "uv": _one("uv_fc", ["a UV index of 7, which is high, so wear sunscreen", "a low UV index of 2",
                         "a very high UV index of 9 around midday", "a moderate UV index of 4"]),
    "laundry": _one("laundry_fc", ["dry and breezy with 45% humidity, which is perfect for drying",
                                   "showers from noon, so dry it indoors", "sunny but humid, so it will dry slowly",
                                   "a dry morning with rain arriving later, so hang it out early"]),
    "fog": _one("fog_fc", ["dense fog early on with visibility under 200 metres, clearing by mid-morning",
                           "good visibility all day", "patchy mist near the coast",
                           "fog lingering into the afternoon in low-lying areas"]),
    "rainstop": _one("rainstop_fc", ["the rain easing around 3 pm with dry spells after",
                                     "showers continuing on and off until evening", "the rain clearing by late morning",
                                     "light rain lasting most of the day"]),
    "hike": [
        {"best_day": "Tuesday", "hike_fc": "sunshine and a high of 19°C"},
        {"best_day": "Thursday", "hike_fc": "light winds and only a 5% chance of rain"},
        {"best_day": "Saturday", "hike_fc": "clear skies all afternoon"},
        {"best_day": "Sunday", "hike_fc": "mild temperatures and dry trails"},
    ],
    "heat": _one("heat_fc", ["a high of 34°C with a heat advisory, so stay hydrated", "a pleasant high of 23°C",
                             "a high of 28°C with strong sunshine", "a cooler high of 17°C"]),
    "mm": _one("mm_fc", ["about 5 mm, mostly in the morning", "around 20 mm with heavy bursts in the afternoon",
                         "less than 1 mm", "roughly 10 mm spread through the day"]),
    "sun": _one("sun_fc", ["sunny spells after a cloudy start", "mostly overcast with little sun",
                           "clear blue skies from morning to evening", "bright but hazy sunshine"]),
    "sunrise": _one("sunrise_fc", ["sunrise at 6:42 am and sunset at 8:15 pm", "sunrise at 7:58 am and sunset at 4:51 pm",
                                   "sunrise at 5:31 am and sunset at 9:02 pm", "sunrise at 7:05 am and sunset at 6:40 pm"]),
    "ice": _one("ice_fc", ["a risk of black ice early in the morning, so allow extra time",
                           "above-freezing temperatures with no ice risk", "freezing rain possible after dark",
                           "icy patches likely on untreated roads"]),
    "humid": _one("humid_fc", ["humidity around 80% with a muggy dew point of 20°C", "comfortable humidity near 50%",
                               "dry air with humidity dropping to 30%", "sticky conditions in the afternoon"]),
    "warn": _one("warn_fc", ["a yellow wind warning for gusts up to 70 km/h", "no active warning",
                             "an orange warning for heavy rain and possible flooding",
                             "a yellow thunderstorm warning in the late afternoon"]),
    "gen": _one("gen_fc", ["partly cloudy with a high of 18°C and a light breeze", "rain in the morning turning brighter later",
                           "sunny and warm with a high of 27°C", "cold and grey with a high of 6°C"]),
    "water": _one("water_fc", ["an 80% chance of rain, so you can skip watering",
                               "dry weather with a 5% chance of rain, so water in the evening",
                               "a 50% chance of showers, so water lightly", "a thunderstorm in the afternoon, so hold off"]),
    "bbq": _one("bbq_fc", ["a dry evening around 21°C, perfect for a barbecue", "showers after 6 pm, so have a backup plan",
                           "a cool 12°C evening, so bring a jumper", "warm and sunny until sunset"]),
    "aqi": _one("aqi_fc", ["good air quality with an AQI of 25", "moderate air quality around AQI 60",
                           "poor air quality from wildfire smoke, with an AQI of 150", "fair air quality with some pollen"]),
    "hw": _one("hw_fc", ["temperatures climbing to 35°C by the weekend", "no heatwave, with highs staying near 24°C",
                         "a short hot spell midweek before cooler air arrives"]),
    "cycle": _one("cycle_fc", ["gusts up to 50 km/h, so it may be tough going", "light winds under 15 km/h, great for cycling",
                               "a headwind of 30 km/h from the north in the morning", "calm conditions easing into a breeze later"]),
    "sled": _one("sled_fc", ["about 8 cm of fresh snow, great for sledging", "only a light dusting",
                             "no snow, just cold rain", "10 to 15 cm overnight with more on the hills"]),
}
# "order" is generated: SKY- plus five digits


# ----------------------------------------------------------------------------- templates
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "billing": [
        ("Why was I charged twice for my {plan} subscription this month?",
         "Sorry about the double charge! Open the app, go to Settings > Billing > Payment history, and if you see two {plan} charges of {price}, tap Report a problem and we'll refund the duplicate within 5 business days."),
        ("How do I cancel my {plan} subscription?",
         "You can cancel anytime from Settings > Billing > Manage plan in the Skyward app. Tap Cancel {plan} and confirm; you keep the paid features until the end of the current billing period."),
        ("Can I get a refund for my {model} if I return it within 30 days?",
         "Yes, the {model} has a 30-day money-back guarantee. Start the return from Orders > Return an item on the Skyward website, and the refund goes back to your original payment method within 5 to 7 business days of us receiving it."),
        ("How do I update the credit card used for my {plan} plan?",
         "Go to Settings > Billing > Payment method in the app and tap Replace card. Enter the new card details and save; your next {plan} renewal will be charged to the new card."),
        ("What is the price difference between {plan} and the free plan?",
         "The free plan costs nothing and includes live readings and a 3-day forecast. {plan} is {price} per month and adds {plan_features}."),
        ("Can I switch from monthly to annual billing for {plan}?",
         "Absolutely! In Settings > Billing > Manage plan, choose Annual for {plan} and confirm. We credit the unused part of your current month, and annual billing saves you about two months compared with paying monthly."),
        ("I was charged {price} for {plan} but I thought I cancelled it. Can you help?",
         "Sorry for the confusion! Check Settings > Billing > Payment history to confirm when {plan} was cancelled; if the {price} charge came after that date, tap Report a problem and we'll refund it within 5 business days."),
        ("Where can I download an invoice for order {order}?",
         "Sign in on the Skyward website, open Orders, select {order} and click Download invoice. The PDF includes the VAT or sales tax breakdown you may need for expenses."),
        ("Do you offer a discount on {plan} for students or seniors?",
         "We do! Students and customers over 65 get 20% off {plan}. Send proof of eligibility through Help > Contact us in the app and we'll apply the discount to your next renewal."),
        ("Why did the price of my {plan} subscription go up?",
         "{plan} prices were updated this year to cover expanded forecast data, and we emailed all subscribers 30 days before the change. You can review the new price in Settings > Billing > Manage plan or switch to annual billing to save."),
        ("My payment for {plan} failed. What should I do?",
         "No worries, your {plan} features stay active for 7 days while you fix it. Go to Settings > Billing > Payment method, check the card's expiry date or add a new card, then tap Retry payment."),
        ("Can I pay for my {model} with PayPal?",
         "Yes, PayPal is accepted at checkout on the Skyward website for the {model} and all accessories. Choose PayPal on the payment step and you'll be redirected to confirm the purchase."),
        ("Is sales tax included in the price of the {model}?",
         "Prices shown for the {model} exclude sales tax in the US and Canada and include VAT in Europe and the UK. The final tax amount appears on the checkout summary before you pay."),
        ("I ordered a {accessory} by mistake. How do I get a refund?",
         "Unused accessories like the {accessory} can be returned within 30 days for a full refund. Open Orders on the Skyward website, choose Return an item, and the refund is issued as soon as the carrier scans the package."),
        ("Will I be charged automatically when my {plan} free trial ends?",
         "Yes, {plan} renews at {price} per month when the 14-day trial ends unless you cancel first. You can see the exact renewal date under Settings > Billing > Manage plan."),
        ("Can I share one {plan} subscription across two weather stations?",
         "Yes, one {plan} subscription covers up to three stations on the same account. Add the second station from the Devices screen and the paid features apply to it automatically."),
        ("How do I use a promo code when I buy {plan}?",
         "Open Settings > Billing > Manage plan, tap Promo code and enter it before confirming {plan}. The discount shows on the summary screen before you are charged."),
        ("Why does my bank statement show a {stmt_price} charge from SKYWARD APP {stmt_when}?",
         "That {stmt_price} charge is your {stmt_plan} renewal, which appears as SKYWARD APP on bank statements. If you don't recognise it, check Settings > Billing > Payment history or reach us from Help > Contact us."),
        ("Can I get a receipt for my {plan} renewal for business expenses?",
         "Of course! Every {plan} renewal has a receipt under Settings > Billing > Payment history; tap the charge and choose Email receipt. You can add a company name and tax ID before downloading it."),
        ("Do you offer monthly payments or financing for the {model}?",
         "Yes, the {model} can be paid in 4 interest-free instalments when you choose Pay later at checkout on the Skyward website. Approval is instant, and you'll see the payment schedule before confirming."),
        ("Will I lose my data if I downgrade from {plan} to the free plan?",
         "Your readings are never deleted. After downgrading from {plan}, the app shows the last 7 days of history, and the rest reappears if you upgrade again later."),
        ("Can I buy a {plan} subscription as a gift for my {relative}?",
         "What a nice idea! Buy a {plan} gift code on the Skyward website under Gifts, and your {relative} can redeem it in Settings > Billing > Redeem code."),
        ("Will the price of the {model} drop during the holiday sale?",
         "We can't share future prices, but you can tap Notify me on the {model} product page to get an email when it goes on sale. If the price drops within 14 days of your purchase, we refund the difference."),
        ("Why was my card declined when I tried to buy the {model}?",
         "Card declines usually come from the bank's fraud check or a mismatched billing address. Make sure the address matches your card statement, then try again or pay for the {model} with PayPal at checkout."),
        ("How do I delete the saved card that pays for {plan}?",
         "Open Settings > Billing > Payment method, tap the card and choose Remove. If {plan} is active, add another payment method first so your renewal doesn't fail."),
        ("Can I get a partial refund if I cancel my annual {plan} plan early?",
         "Annual {plan} plans are refunded pro rata if you cancel within the first 60 days. After that, cancelling stops the next renewal and you keep the features until the year ends."),
        ("Do I pay extra for the {accessory} or is it included with the {model}?",
         "The {accessory} is sold separately and isn't included in the {model} box. You can add it to your cart on the {model} product page, and bundles usually come with 10% off."),
    ],
    "shipping": [
        ("Where is my order {order}? It still says processing.",
         "Orders usually leave our warehouse within 2 business days. Select {order} on the Orders screen in the app to see its status; you'll get a tracking link by email as soon as it ships."),
        ("How long does shipping to {country} take for a {model}?",
         "Standard shipping of the {model} to {country} takes {ship_days} business days, and express roughly halves that. The exact estimate appears at checkout once you enter your postcode."),
        ("The tracking for order {order} hasn't updated in five days. Is it lost?",
         "Tracking can pause between hubs, but five days is too long. Send us {order} through Help > Contact us and we'll open a trace with the carrier and reship if it isn't found within 48 hours."),
        ("Do you ship the {model} to {country}?",
         "Yes, we ship the {model} to {country} with {carrier}. Shipping costs and delivery times are shown at checkout, and any import duties are already included in the price."),
        ("Can I change the delivery address on order {order}?",
         "If {order} hasn't shipped yet, open it under Orders on the Skyward website and tap Edit address. Once it has shipped, contact us quickly and we'll ask the carrier to redirect it."),
        ("My {model} arrived damaged in the box. Can you send a replacement?",
         "I'm sorry it arrived damaged! Take a photo of the {model} and the packaging, then go to Orders > Report a problem; we'll ship a free replacement within 1 business day, with no need to return the damaged one first."),
        ("How much does express shipping cost to {country}?",
         "Express shipping to {country} costs {express_price} and arrives in about {express_days} business days. Choose Express on the delivery step at checkout to see the exact date."),
        ("Which carrier delivers Skyward orders to {country}?",
         "Orders to {country} are delivered by {carrier}. Your shipping email includes a {carrier} tracking number, and you can also follow the parcel on the Orders screen in the app."),
        ("Can I pick up my {model} order in person instead of having it shipped?",
         "We don't have pickup counters, but you can ship the {model} to a carrier pickup point. Select Pickup point at checkout and choose a location near you on the map."),
        ("My order {order} says delivered but I never got the package.",
         "Sorry about that! Please check with neighbours and around your door, and wait 24 hours in case the carrier scanned it early. If {order} still hasn't turned up, report it under Orders > Report a problem and we'll investigate and reship."),
        ("Can I get my {model} delivered before {holiday}?",
         "To get the {model} before {holiday}, order with express shipping at least 3 business days ahead. The checkout page shows a guaranteed delivery date, so you can confirm it arrives in time."),
        ("Why was only part of my order {order} delivered?",
         "Larger orders sometimes ship in separate boxes. Open {order} under Orders to see a tracking number for each parcel; the remaining items usually arrive within 2 days."),
        ("Do I have to pay customs fees when I order a {model} to {country}?",
         "No, for {country} all duties and taxes on the {model} are collected at checkout, so {carrier} won't ask you for extra fees on delivery."),
        ("How do I get a return shipping label for my {model}?",
         "Go to Orders on the Skyward website, choose the {model} and click Return an item. A prepaid return label is emailed to you right away; print it and drop the box at any {ret_carrier} location."),
        ("Can I add a {accessory} to my order {order} before it ships?",
         "Orders can't be edited once payment is processed, but a separate {accessory} order placed today usually ships together with {order}. Mention {order} in the order notes and our warehouse will try to combine them."),
        ("The courier left a note saying they missed me. How do I rearrange delivery of order {order}?",
         "Use the link on the carrier's note or the tracking page for {order} to pick a new delivery day or a pickup point. If the parcel comes back to us, we'll reship it for free."),
        ("Can you ship my {model} as a gift without the invoice in the box?",
         "Yes! Tick This is a gift at checkout and we'll leave the invoice out of the box and add a gift note. The {model} packaging itself shows no prices."),
        ("My order {order} was shipped to my old address. Can you help?",
         "Let's fix that. Send us {order} through Help > Contact us and we'll ask the carrier to redirect it; if it was already delivered, we'll reship to your new address once the parcel is returned."),
        ("Is shipping free when I order the {model}?",
         "Standard shipping is free on every station order, including the {model}. Express shipping is available for an extra fee on the delivery step at checkout."),
        ("How can I track the delivery of my {accessory}?",
         "When your {accessory} ships, we email a tracking link and the parcel appears on the Orders screen in the app. Tap it to see live carrier updates and the estimated delivery date."),
        ("The box for order {order} was opened and the {accessory} is missing.",
         "I'm sorry that happened! Report it under Orders > Report a problem for {order} with a photo of the box, and we'll ship a replacement {accessory} right away."),
        ("Do you deliver orders on weekends in {city}?",
         "Weekend delivery in {city} depends on the carrier; Saturday delivery can be chosen at checkout for an extra fee in most areas. Sunday deliveries aren't offered yet."),
        ("Can you ship my {model} to a PO box?",
         "Yes, the {model} box fits standard PO box parcels when it ships with the national postal service. Choose Standard shipping at checkout, since express couriers can't deliver to PO boxes."),
        ("When will the {model} be back in stock and ready to ship?",
         "The {model} is expected back in stock within 2 to 3 weeks. Tap Notify me on the product page and we'll email you the moment it's ready to ship."),
        ("My order {order} has been stuck in customs in {country} for a week.",
         "Customs checks in {country} can take up to 10 days for electronics. Send us {order} through Help > Contact us and we'll chase {carrier} for you and keep you updated."),
        ("Can I cancel order {order} before it ships?",
         "If {order} still shows Processing, open it under Orders and tap Cancel order for a full refund. If it has already shipped, you can refuse the delivery or return it free within 30 days."),
    ],
    "setup": [
        ("How do I connect my {model} to Wi-Fi?",
         "Open the Skyward app, go to Devices > Add station and select {model}. Hold the pairing button on the back for 5 seconds until the light blinks blue, then choose your 2.4 GHz network and enter the password."),
        ("Where is the best place to mount the {sensor} of my {model}?",
         "Mount the {sensor} {placement}. Then open Devices > {model} > Calibrate in the app so readings start from a clean baseline."),
        ("Does the {model} work with 5 GHz Wi-Fi networks?",
         "The {model} connects to 2.4 GHz networks only. If your router combines both bands under one name, turn on a separate 2.4 GHz network in the router settings, then run Devices > Add station again."),
        ("How do I pair the outdoor sensor with my {model} base station?",
         "Put the batteries in the outdoor sensor, then open Devices > {model} > Sensors in the app and tap Pair sensor. Keep both units within 3 metres until the app shows Connected, which usually takes under a minute."),
        ("What app do I need to set up my new {model}?",
         "Download the free Skyward app from the App Store or Google Play, create an account and tap Add station. The app walks you through setting up the {model} step by step in about 10 minutes."),
        ("How do I set the station location to {city} during setup?",
         "In the app, open Devices > Station details > Location and search for {city}, or tap Use my location. Setting this correctly keeps local forecasts and sunrise times accurate."),
        ("How do I change the units from {unit_from_to} on my {model}?",
         "Open Settings > Units in the Skyward app and choose {unit_to}. The {model} display and all charts switch to {unit_to} within a few seconds."),
        ("Do I need to charge the {model} before installing it outside?",
         "The {model} ships with about 50% battery. Charge it with the included USB-C cable for 3 hours before mounting it, so the solar panel only needs to top it up."),
        ("Can I connect my {model} to {assistant}?",
         "Yes! In the Skyward app, go to Settings > Integrations, choose {assistant} and sign in to link the accounts. Your {model} readings then show up in {assistant} within a few minutes."),
        ("How do I add a second {model} to my setup?",
         "Tap Devices > Add station in the app and follow the same pairing steps as your first station. Give the new {model} a distinct name, like Garden or Roof, so you can tell them apart on the Dashboard."),
        ("How high should I mount my {model} on the pole?",
         "For accurate readings, mount the {model} 1.5 to 2 metres above the ground on the included pole, with the solar panel facing the equator. Use a spirit level so the rain gauge sits flat."),
        ("What's the first thing I should do after unboxing my {model}?",
         "Welcome to Skyward! Charge the {model} for a few hours, install the Skyward app, then tap Devices > Add station to connect it to Wi-Fi before mounting it outside."),
        ("How do I set up {condition} alerts on my {model}?",
         "Open the Alerts screen, tap New alert and choose {condition} as the trigger. Pick a threshold and whether you want a push notification or an email, and your {model} will notify you when it's reached."),
        ("Can I install the {model} on my apartment balcony?",
         "Yes, the {model} works on a balcony if it gets open sky and airflow. Fix it to the outer railing with the included bracket, away from walls, so heat from the building doesn't skew temperature readings."),
        ("How do I factory reset my {model} before setting it up again?",
         "Hold the reset button on the back of the {model} for 10 seconds until the light flashes red, then release it. Open the app and use Devices > Add station to set it up from scratch."),
        ("What batteries does the outdoor sensor of the {model} need?",
         "The {model} outdoor sensor takes two AA lithium batteries, which handle cold weather better than alkaline ones. Insert them before pairing, and the app shows their level under Devices > Sensors."),
        ("How do I set up the {model} if I have a mesh Wi-Fi router?",
         "Most mesh systems work fine with the {model}. Place the station close to a mesh node during setup, make sure 2.4 GHz is enabled, and then run Devices > Add station in the app."),
        ("Can I set up the {model} without a smartphone?",
         "Yes, you can set up the {model} from a computer by opening the Skyward web app and choosing Add station. You'll join the station's temporary Wi-Fi hotspot and enter your home network details there."),
        ("How do I name my new station {station_name} in the app?",
         "Open Devices, tap your station, then choose Station details > Name and type {station_name}. The new name appears on the Dashboard and in your alerts right away."),
        ("How do I calibrate the {sensor} on my new {model}?",
         "Go to Devices > {model} > Calibrate in the app and select the {sensor}. Enter a reference reading from a trusted source, such as a nearby official station, and tap Save to apply the offset."),
        ("Should I set up the {model} indoors first or straight outside?",
         "Set up the {model} indoors first, close to your router, so pairing and the first firmware update go smoothly. Once the app shows it online, move it outside to its final spot."),
        ("How do I install the firmware update during setup of my {model}?",
         "If an update is available, the app prompts you right after pairing the {model}. Keep the station powered and near your router, tap Install now, and wait about 5 minutes until the light turns solid green."),
        ("Can I set up my {model} with the Skyward app on a tablet?",
         "Yes, the Skyward app runs on iPad and Android tablets. Install it, sign in with the same account and your {model} appears automatically; to add a new one, use Devices > Add station."),
        ("How do I set the time zone for my {model} in {city}?",
         "The {model} takes its time zone from the station location. Open Devices > Station details > Location, make sure {city} is selected, and the clock and daily rain totals will reset at local midnight."),
        ("What's included in the {model} box for installation?",
         "The {model} box includes the station, a mounting pole with bracket, a USB-C charging cable and a quick start guide. Everything else you need is in the Skyward app under Devices > Add station."),
        ("How do I add my {model} to the community weather map?",
         "Open Settings > Privacy > Community map and switch on Share my station. Your {model} readings appear on the map within an hour, and you can choose to hide its exact location."),
    ],
    "troubleshooting": [
        ("My {model} keeps going offline. How can I fix it?",
         "Frequent drops usually mean a weak Wi-Fi signal. Check the signal bars under Devices > {model} > Diagnostics; if it shows fewer than two bars, move the router closer or add a Wi-Fi extender near the station."),
        ("What does error {err_code} mean on my {model}?",
         "Error {err_code} on the {model} means {err_meaning}. To fix it, {err_fix}."),
        ("The temperature on my {model} reads far too high in the afternoon.",
         "High afternoon readings usually mean the sensor gets direct sun or heat from a wall. Move the {model} to a shaded spot with airflow, at least 1.5 metres above grass, and readings should settle within a day."),
        ("The rain gauge on my {model} shows zero even though it rained all day.",
         "The tipping bucket inside the {model} rain gauge is probably blocked. Remove the funnel, clear out leaves or insects and check the bucket moves freely, then pour in a little water to test that the app registers it."),
        ("The Skyward app crashes when I open the {screen} screen.",
         "Sorry about that! Update the Skyward app to the latest version, then force close and reopen it. If the {screen} screen still crashes, go to Settings > Help > Send diagnostics so our team can investigate."),
        ("Why is the wind speed on my {model} always zero?",
         "A zero wind reading usually means the anemometer cups are stuck or the sensor cable is loose. Spin the cups by hand, check the connector under the {model} is firmly seated, and restart the station from Devices > Restart."),
        ("My {model} isn't charging from the solar panel anymore.",
         "First wipe the solar panel clean, since dust and bird droppings cut charging a lot. If the battery still drops each day, check the charge rate under Devices > {model} > Diagnostics and contact us if it shows zero in full sun."),
        ("The humidity reading on my {model} is stuck at 99 percent.",
         "A humidity sensor stuck at 99 percent has usually been soaked by condensation. Bring the {model} indoors to dry for 24 hours, then remount it under the included radiation shield."),
        ("My {condition} alerts stopped arriving on my phone.",
         "Check that notifications for Skyward are allowed in your phone settings and that Do Not Disturb is off. Then open the Alerts screen and make sure the {condition} alert is switched on and its threshold hasn't changed."),
        ("The app shows readings from hours ago and my {model} won't refresh.",
         "Pull down on the Dashboard to force a refresh. If the last update time doesn't change, restart the {model} from Devices > Restart and check your router is online, since stale data means the station lost its connection."),
        ("My {model} won't turn on after the battery died.",
         "Connect the {model} to the USB-C cable and leave it charging for at least 30 minutes before pressing the power button. If the light still doesn't come on, hold the button for 15 seconds to force a restart."),
        ("The app can't find my {model} when I try to pair it.",
         "Make sure Bluetooth and location permissions are allowed for the Skyward app and that the {model} is in pairing mode with the light blinking blue. Keep your phone within 2 metres of the station and try Devices > Add station again."),
        ("The pressure readings on my {model} don't match the local airport.",
         "Airports report sea-level pressure, while the {model} shows station pressure by default. Open Devices > {model} > Calibrate, enter your altitude and switch Pressure to sea-level so the numbers line up."),
        ("The firmware update on my {model} failed halfway. Is it bricked?",
         "Don't worry, it's almost certainly fine. Keep the {model} powered, hold the reset button for 10 seconds, then open Devices > Firmware in the app and tap Retry update."),
        ("Why does the {screen} screen in the app show no data?",
         "An empty {screen} screen usually means the app is signed in to a different account or your station is filtered out. Check Settings > Account, then tap the station selector at the top of the {screen} screen and pick your station."),
        ("My outdoor sensor keeps losing connection with the {model} base in cold weather.",
         "Alkaline batteries lose power in the cold, which causes dropouts. Switch the outdoor sensor to AA lithium batteries and keep it within 100 metres of the {model} base with few walls in between."),
        ("The display on my {model} is blank but the app still shows readings.",
         "The display is probably in power-saving mode. Tap the top of the {model} to wake it, and if it stays blank, open Settings > Display in the app and turn off Auto sleep."),
        ("Why is the rain total on my {model} double what my neighbour measured?",
         "Sprinklers or drips from a roof edge can inflate rain totals. Check that nothing splashes into the {model} gauge, make sure it is level, then verify the calibration under Devices > Calibrate."),
        ("The app says my {model} battery is at {pct} percent even though I just charged it.",
         "A battery that reads {pct} percent right after charging may have a faulty cable or port. Try another USB-C cable and charger for 3 hours, and if the {model} still reads {pct} percent, contact us for a free battery check."),
        ("The Skyward app is very slow on my {phone}. What can I do?",
         "Try clearing the app cache in the storage settings of your {phone}, then restart the Skyward app. Setting History to 30 days instead of All time also makes charts load much faster."),
        ("My {model} makes a clicking noise even when it isn't raining.",
         "A soft click is normal when the rain gauge bucket tips. If the {model} clicks in dry weather, the bucket is probably loose or rocking in the wind, so tighten the gauge screws and make sure the station is level."),
        ("The light on my {model} is flashing red. What does that mean?",
         "A flashing red light on the {model} means it can't reach the Skyward servers. Check your internet connection and restart your router, then restart the station from Devices > Restart once it's back online."),
        ("The indoor temperature on my {model} console is a few degrees off.",
         "Keep the {model} console away from windows, radiators and electronics, which warm it up. You can also set an offset under Devices > Calibrate > Indoor temperature to match a trusted thermometer."),
        ("Why does my {model} show a different temperature than the forecast for {city}?",
         "The forecast for {city} covers a wide area, while your {model} measures your exact spot, so a difference of 1 to 3 degrees is normal. Bigger gaps usually mean the station is in direct sun or too close to a wall."),
        ("My {model} lost all its history after a reset.",
         "Your history is stored in the cloud, not on the {model}. After re-adding the station with Devices > Add station, open Devices > Station details and choose Restore history to link the old records back."),
        ("The UV reading on my {model} is always zero, even on sunny days.",
         "A UV reading of zero usually means the sensor dome is dirty or shaded. Wipe the small dome on top of the {model} with a soft cloth and make sure nothing blocks the sky above it."),
        ("Ice has frozen the wind vane on my {model}. Will it break?",
         "Ice won't harm the {model}, but wind readings will be wrong until it thaws. Don't chip the ice off; the vane frees itself as temperatures rise, and the app flags the affected wind data automatically."),
    ],
    "weather": [
        ("Will it rain in {city} {day_q}?",
         "Open the Forecast screen in the Skyward app and search for {city}; the blue bars show the hourly chance of rain. For {day_a} it shows {rain_fc}, so {rain_adv}."),
        ("What's the temperature going to be in {city} {day_q}?",
         "Check the Forecast screen for {city} and look at the red and blue line, which shows the daily high and low. For {day_a} the app currently shows {temp_fc}."),
        ("Is there any snow forecast for {city} {day_q}?",
         "Open the Forecast screen, select {city} and tap the snowflake filter to see snowfall by hour. For {day_a} it shows {snow_fc}."),
        ("How windy will it be in {city} {day_q}?",
         "Tap the Wind tab on the Forecast screen for {city}; arrows show the direction and the numbers show gusts. For {day_a} it shows {wind_fc}."),
        ("Do I need a jacket in {city} {day_q}?",
         "Check the Feels like value on the Forecast screen for {city}, which combines temperature, wind and humidity. For {day_a} {feels_fc}, so {jacket_adv}."),
        ("Will there be frost in {city} {day_q}?",
         "Open the Forecast screen for {city} and look for the frost icon in the overnight row, or set a frost alert on the Alerts screen. For {day_a} it shows {frost_fc}."),
        ("Is a thunderstorm expected in {city} {day_q}?",
         "The lightning icon on the Forecast screen for {city} marks thunderstorm risk, and the Radar tab shows storms as they develop. For {day_a} it shows {storm_fc}."),
        ("What's the UV index in {city} {day_q}?",
         "Scroll to the UV card on the Forecast screen for {city}; the colour bar shows the peak index and the best time to avoid the sun. For {day_a} it shows {uv_fc}."),
        ("Is it good weather for drying laundry outside in {city} {day_q}?",
         "Look at the rain chance and humidity on the Forecast screen for {city}; a low rain chance with a breeze means quick drying. For {day_a} it shows {laundry_fc}."),
        ("Is fog expected in {city} {day_q}?",
         "The Visibility card on the Forecast screen for {city} shows fog risk by hour. For {day_a} it shows {fog_fc}."),
        ("When will the rain stop in {city} {day_q}?",
         "Open the Forecast screen for {city} and switch to the Hourly view; the blue bars end where the rain stops. For {day_a} it shows {rainstop_fc}."),
        ("Which day this week has the best weather for a hike near {city}?",
         "Open the 7-day view on the Forecast screen for {city} and look for the day with the lowest rain chance and gentle wind. Right now {best_day} looks best, with {hike_fc}."),
        ("Is it going to be hot in {city} {day_q}?",
         "The daily high is shown in red on the Forecast screen for {city}, and a heat banner appears at the top when temperatures get extreme. For {day_a} it shows {heat_fc}."),
        ("How much rain will fall in {city} {day_q}?",
         "Tap the rain total under each day on the Forecast screen for {city} to see the expected millimetres. For {day_a} it shows {mm_fc}."),
        ("Will the sun come out in {city} {day_q}?",
         "The cloud cover bar on the Forecast screen for {city} shows how sunny each hour will be. For {day_a} it shows {sun_fc}."),
        ("What time is sunrise in {city} {day_q}?",
         "Sunrise and sunset times are on the Sun and Moon card at the bottom of the Forecast screen for {city}. For {day_a} it shows {sunrise_fc}."),
        ("Will the roads around {city} be icy {day_q}?",
         "Check the road icon on the Forecast screen for {city}, which combines temperature and precipitation to flag icy conditions. For {day_a} it shows {ice_fc}."),
        ("Will it be humid in {city} {day_q}?",
         "The Humidity card on the Forecast screen for {city} shows relative humidity and the dew point. For {day_a} it shows {humid_fc}."),
        ("Is there a weather warning for {city} {day_q}?",
         "Official warnings appear as a coloured banner at the top of the Forecast screen for {city}; tap it for details. For {day_a} there is {warn_fc}."),
        ("What will the weather be like in {city} {day_q}?",
         "Open the Forecast screen in the Skyward app and search for {city} to see the daily summary at the top. For {day_a} it shows {gen_fc}."),
        ("Should I water my garden in {city} {day_q} or will it rain?",
         "Check the Rain chance row on the Forecast screen for {city}; over 60% usually means you can skip watering. For {day_a} it shows {water_fc}."),
        ("Will it be warm enough for a barbecue in {city} {day_q}?",
         "Look at the evening temperature and rain chance in the Hourly view of the Forecast screen for {city}. For {day_a} it shows {bbq_fc}."),
        ("What is the air quality forecast for {city} {day_q}?",
         "The Air quality card on the Forecast screen for {city} shows the AQI and the main pollutant. For {day_a} it shows {aqi_fc}."),
        ("Is a heatwave coming to {city} soon?",
         "The 10-day trend on the Forecast screen for {city} shows highs as a red line, and a heat banner appears when a heatwave is likely. Right now it shows {hw_fc}."),
        ("Will it be too windy to cycle in {city} {day_q}?",
         "The Wind tab on the Forecast screen for {city} shows wind and gusts by hour; gusts above 40 km/h make cycling hard. For {day_a} it shows {cycle_fc}."),
        ("Will there be enough snow to go sledging near {city} {day_q}?",
         "Tap the snowflake filter on the Forecast screen for {city} to see expected snowfall and snow depth. For {day_a} it shows {sled_fc}."),
    ],
    "account": [
        ("I forgot my Skyward password on my {phone}. How do I reset it?",
         "On the sign-in screen of your {phone}, tap Forgot password and enter your account email. We'll send a reset link that's valid for 1 hour; if it doesn't arrive, check your spam folder."),
        ("How do I change the email address on my Skyward account?",
         "Go to Settings > Account > Email, enter the new address and confirm with your password. We'll send a verification link to the new address, and the change takes effect once you click it."),
        ("How do I delete my Skyward account and all my data?",
         "Open Settings > Account > Delete account and confirm with your password. Your station history and personal data are permanently erased within 30 days, and any active subscription is cancelled."),
        ("How do I turn on two-factor authentication for my account?",
         "Go to Settings > Account > Security and tap Two-factor authentication. Choose an authenticator app or text message codes, follow the prompts, and keep the backup codes somewhere safe."),
        ("How can I share my {model} with my {relative} so they can see the readings?",
         "Open Devices, select your {model} and tap Share station. Enter your {relative}'s account email and choose View only or Full access; they'll see the readings once they accept the invite."),
        ("My {relative} shared a station with me but I can't see it in my account.",
         "Ask your {relative} to check the invite went to the email on your Skyward account. Then go to Settings > Account > Invitations and tap Accept; the station will appear on your Dashboard."),
        ("How do I change my display name in the Skyward app?",
         "Go to Settings > Account > Profile and tap Display name. Type the new name and tap Save; it updates on shared stations and the community map right away."),
        ("Can I sign in to Skyward with my {sso} account?",
         "Yes, tap Continue with {sso} on the sign-in screen. If you already have an email login, link {sso} first under Settings > Account > Connected accounts so both open the same account."),
        ("I'm locked out of my account after too many login attempts.",
         "For security, accounts lock for 15 minutes after five failed attempts. Wait for the timer to finish, then use Forgot password on the sign-in screen if you're unsure of your password."),
        ("How do I download a copy of all the data in my account?",
         "Open Settings > Account > Privacy and tap Export my data. We'll prepare a ZIP file with your readings in CSV format and email you a download link within 24 hours."),
        ("How do I log out of my account on my old {phone}?",
         "If you still have the {phone}, open Settings > Account and tap Sign out. If not, sign in on another device and use Settings > Account > Security > Sign out of all devices."),
        ("Can two people in my household use the same Skyward account?",
         "We recommend separate accounts, so each person gets their own alerts and settings. The account owner can share stations with others under Devices > Share station at no extra cost."),
        ("How do I merge two Skyward accounts I created by mistake?",
         "Accounts can't be merged automatically, but stations can be moved. In the account you want to close, open Devices > Transfer station and enter the email of the account you want to keep."),
        ("Why am I not getting the verification email for my new account?",
         "Check your spam or promotions folder first, since the email comes from the Skyward team. If it isn't there after 10 minutes, tap Resend email on the sign-in screen and double-check the address for typos."),
        ("How do I change the language of my account to {language}?",
         "Open Settings > Account > Language and choose {language}. The app restarts in {language}, and your alerts and emails switch over too."),
        ("How do I remove my {relative}'s access to my account?",
         "Open Devices, select your station and tap Share station. Find your {relative} in the list, tap Remove access and confirm; they'll no longer see your readings."),
        ("How do I stop marketing emails but keep my weather alerts?",
         "Go to Settings > Account > Notifications and switch off Product news and offers. Weather alerts are controlled separately on the Alerts screen, so they'll keep arriving."),
        ("Can I transfer my {model} to a new owner's account if I sell it?",
         "Yes. Open Devices, select the {model}, tap Transfer station and enter the buyer's account email. Your history stays with you unless you choose to include it in the transfer."),
        ("How do I update the phone number on my account?",
         "Open Settings > Account > Profile and tap Phone number. Enter the new number and type in the code we text you to confirm it; this number is also used for two-factor codes."),
        ("I got an email saying someone signed in to my account from {city}. What should I do?",
         "If you weren't in {city}, change your password right away under Settings > Account > Security and tap Sign out of all devices. Then turn on two-factor authentication to keep your account safe."),
        ("How do I make my account private so my station isn't on the public map?",
         "Open Settings > Account > Privacy and switch Public station off. Your station disappears from the community map within an hour, but you still see all your own data."),
        ("How do I switch my account to the {fmt} clock so times show like {fmt_eg}?",
         "Go to Settings > Account > Preferences and set Time format to {fmt}. Charts, alerts and the Dashboard then show times like {fmt_eg} straight away."),
        ("Why was I signed out of my account on my {phone}?",
         "You're signed out automatically after 90 days without use or after a password change. Sign in again on your {phone}; your stations and settings are all saved to your account."),
        ("How do I recover my account if I no longer have access to my old email?",
         "Use Help > Account recovery on the sign-in screen and enter the serial number of a station linked to your account. Our team verifies ownership and helps you set a new email within 2 business days."),
        ("How do I change my account from personal to business?",
         "Open Settings > Account > Account type and choose Business. Add your company name and tax ID, and they'll appear on your account profile and future documents."),
        ("Can I give my {relative} admin access to my account?",
         "Rather than sharing your login, add your {relative} under Devices > Share station with Full access. They can then manage alerts and settings for the station from their own account."),
        ("How do I add my {relative} to the family group on my account?",
         "Go to Settings > Account > Family, tap Invite member and enter your {relative}'s email. Family members see your stations and get their own alerts."),
        ("How do I update the profile photo on my account?",
         "Go to Settings > Account > Profile and tap your current photo. Choose a new picture from your gallery or take one, then tap Save."),
    ],
}

# ----------------------------------------------------------------------------- filling
_FIELD_TO_GROUP = {field: name for name, opts in GROUPS.items() for field in opts[0]}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _fill(rng: Random, question: str, answer: str) -> tuple[str, str]:
    fields = set(_PLACEHOLDER.findall(question)) | set(_PLACEHOLDER.findall(answer))
    values: dict[str, str] = {}
    for group in sorted({_FIELD_TO_GROUP[f] for f in fields if f != "order"}):
        values.update(rng.choice(GROUPS[group]))
    if "order" in fields:
        values["order"] = f"SKY-{rng.randint(10000, 99999)}"
    return question.format(**values), answer.format(**values)


def generate_pool(rng: Random, topic: str, n: int, taken: set[str]) -> list[tuple[str, str]]:
    """``n`` filled (question, answer) pairs for ``topic`` with questions not in ``taken``.

    Templates are visited round-robin (in a shuffled order) so that every template
    is used before any is used twice; a template whose slots are exhausted drops out.
    """
    templates = list(TEMPLATES[topic])
    rng.shuffle(templates)
    out: list[tuple[str, str]] = []
    alive = list(range(len(templates)))
    while len(out) < n and alive:
        for ti in list(alive):
            if len(out) >= n:
                break
            for _ in range(40):
                q, a = _fill(rng, *templates[ti])
                if q not in taken:
                    taken.add(q)
                    out.append((q, a))
                    break
            else:
                alive.remove(ti)
    if len(out) < n:
        raise SystemExit(f"{topic}: only {len(out)} distinct questions, wanted {n}")
    return out


def balanced(rng: Random, values: list[str], n: int) -> list[str]:
    out = (values * (n // len(values) + 1))[:n]
    rng.shuffle(out)
    return out


# ----------------------------------------------------------------------------- defects
RAMBLE = ["As I mentioned,", "Just to repeat,", "Again, to be completely clear,", "In other words,",
          "Once more, and this is important,", "To say it one more time,"]


def ramble(base: str, rng: Random) -> str:
    """A rambling answer of well over 200 words built by restating ``base``."""
    core = base[0].lower() + base[1:]
    parts = [base]
    i = rng.randrange(len(RAMBLE))
    while len(" ".join(parts).split()) < 215:
        parts.append(f"{RAMBLE[i % len(RAMBLE)]} {core}")
        i += 1
    parts.append("I hope this helps, and please let me know if there is anything else at all, "
                 "because I am always happy to go over it again in even more detail.")
    return " ".join(parts)


def _long_word(text: str, rng: Random, min_len: int) -> re.Match:
    return rng.choice([m for m in re.finditer(r"\b[a-z]+\b", text) if len(m.group()) >= min_len])


def swap_typo(text: str, rng: Random) -> str:
    """Swap two adjacent interior letters of a long lowercase word."""
    m = _long_word(text, rng, 6)
    w = m.group()
    j = rng.randrange(1, len(w) - 2)
    return text[:m.start()] + w[:j] + w[j + 1] + w[j] + w[j + 2:] + text[m.end():]


def drop_typo(text: str, rng: Random) -> str:
    """Drop one interior letter of a long lowercase word."""
    m = _long_word(text, rng, 7)
    w = m.group()
    j = rng.randrange(2, len(w) - 2)
    return text[:m.start()] + w[:j] + w[j + 1:] + text[m.end():]


def build(rng: Random):
    taken: set[str] = set()
    clean: list[dict] = []
    extras: dict[str, list[tuple[str, str]]] = {}
    for topic in TOPICS:
        pairs = generate_pool(rng, topic, CLEAN_PER_TOPIC + 5, taken)
        extras[topic] = pairs[CLEAN_PER_TOPIC:]          # unused, for defect rows
        personas = balanced(rng, PERSONAS, CLEAN_PER_TOPIC)
        ages = balanced(rng, AGE_GROUPS, CLEAN_PER_TOPIC)
        for (q, a), p, g in zip(pairs[:CLEAN_PER_TOPIC], personas, ages):
            clean.append({"question": q, "answer": a, "topic": topic, "persona": p, "age_group": g})
    rng.shuffle(clean)
    for i, row in enumerate(clean):
        row["_key"] = float(i)

    def take(topic: str) -> tuple[str, str]:
        return extras[topic].pop()

    def new_row(q, a, topic):
        return {"question": q, "answer": a, "topic": topic,
                "persona": rng.choice(PERSONAS), "age_group": rng.choice(AGE_GROUPS)}

    defects: list[tuple[str, dict, str]] = []   # (category, row, note)
    n = len(clean)

    def add(category, row, note="", after=-1.0):
        row["_key"] = rng.uniform(after + 0.01, n - 0.01) if after >= 0 else rng.uniform(0.5, n - 0.01)
        defects.append((category, row, note))

    # nulls -----------------------------------------------------------------
    for topic in ["billing", "setup", "troubleshooting", "account"]:
        q, _ = take(topic)
        add("null_answer", new_row(q, "", topic), "answer is empty")
    for topic in ["shipping", "weather"]:
        _, a = take(topic)
        add("null_question", new_row("", a, topic), "question is empty")
    for topic in ["billing", "weather"]:
        q, a = take(topic)
        add("null_topic", new_row(q, a, ""), f"topic is empty (should be {topic})")

    # exact and near duplicates of earlier clean rows ---------------------------
    sources = rng.sample(range(n), 8)
    for si in sources[:4]:
        src = clean[si]
        row = {k: src[k] for k in ("question", "answer", "topic", "persona", "age_group")}
        add("exact_duplicate", row, "", after=si)
        row["_source"] = src
    makers = [
        ("lowercased", lambda q: q.lower()),
        ("question mark dropped", lambda q: q.rstrip("?.")),
        ("typo (swapped letters)", lambda q: swap_typo(q, rng)),
        ("typo (dropped letter)", lambda q: drop_typo(q, rng)),
    ]
    for si, (how, make) in zip(sources[4:], makers):
        src = clean[si]
        q = make(src["question"])
        assert q != src["question"] and q not in taken, (q, how)
        taken.add(q)
        row = {k: src[k] for k in ("answer", "topic", "persona", "age_group")}
        row["question"] = q
        add("near_duplicate", row, how, after=si)
        row["_source"] = src

    # over-long answers -------------------------------------------------------
    for topic in ["shipping", "setup", "account"]:
        q, a = take(topic)
        add("overlong_answer", new_row(q, ramble(a, rng), topic), "answer over 200 words")

    # stray whitespace --------------------------------------------------------
    q, a = take("billing")
    add("whitespace", new_row("  " + q, a, "billing"), "question has leading spaces")
    q, a = take("weather")
    add("whitespace", new_row(q + "   ", a, "weather"), "question has trailing spaces")
    q, a = take("troubleshooting")
    add("whitespace", new_row(q, a + " ", "troubleshooting"), "answer has a trailing space")
    q, a = take("shipping")
    w = q.split(" ")
    add("whitespace", new_row(" ".join(w[:3]) + "  " + " ".join(w[3:]), a, "shipping"),
        "question has a double space inside")
    q, a = take("setup")
    s = a.index(". ") + 1
    add("whitespace", new_row(q, a[:s] + "  " + a[s + 1:], "setup"),
        "answer has a double space between sentences")

    # mislabeled topic --------------------------------------------------------
    for true, wrong in [("billing", "weather"), ("weather", "billing"), ("account", "shipping")]:
        q, a = take(true)
        add("mislabeled_topic", new_row(q, a, wrong), f"labelled {wrong}, actually {true}")

    # PII ---------------------------------------------------------------------
    add("pii", new_row(
        "I changed my login email to jane.doe@example.com and now I can't sign in. What should I do?",
        "Try signing in with your previous email first, since the change only applies after you click "
        "the verification link. If that fails, tap Forgot password on the sign-in screen to get a reset link.",
        "account"), "email address in the question")
    order = f"SKY-{rng.randint(10000, 99999)}"
    add("pii", new_row(
        f"The courier needs a contact number for order {order}. Can you add mine to the delivery?",
        f"Done! I've added +1 555 0100 as the contact number on order {order}, so the courier can "
        "call you before delivery. You can change it any time under Orders > Delivery details.",
        "shipping"), "phone number in the answer")

    rows = clean + [r for _, r, _ in defects]
    rows.sort(key=lambda r: r["_key"])
    for i, row in enumerate(rows, 1):
        row["id"] = f"q{i:04d}"
    return rows, clean, defects


# ----------------------------------------------------------------------------- checks
def _words(s: str) -> int:
    return len(s.split())


def _sentences(s: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", s.strip()))


def check_clean(clean: list[dict]) -> None:
    qs = [r["question"] for r in clean]
    assert len(set(qs)) == len(qs), "clean questions must be distinct"
    assert len({r["answer"] for r in clean}) == len(clean), "clean answers should be distinct"
    for r in clean:
        q, a = r["question"], r["answer"]
        assert 5 <= _words(q) <= 30, q
        assert 10 <= _words(a) <= 60, (len(a.split()), a)
        assert 1 <= _sentences(a) <= 3, a
        for s in (q, a):
            assert s == s.strip() and "  " not in s and "{" not in s, s
            assert "@" not in s and "555" not in s, s
        assert r["topic"] in TOPICS
    # keep clean questions clearly apart, so that near-duplicate detectors only
    # find the planted ones: no two within edit distance 2 after normalising
    norm = sorted(re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", q.lower())).strip() for q in qs)
    for i, a in enumerate(norm):
        for b in norm[i + 1:]:
            assert _edit_distance(a, b) > 2, (a, b)


def _edit_distance(a: str, b: str, cap: int = 3) -> int:
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= cap:
            return cap
        prev = cur
    return prev[-1]


def write_csv(rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    CSV_PATH.write_text(buf.getvalue(), encoding="utf-8", newline="")


def write_defects(defects) -> None:
    by_cat: dict[str, list[tuple[dict, str]]] = {}
    for cat, row, note in defects:
        by_cat.setdefault(cat, []).append((row, note))
    titles = {
        "null_answer": "Nulls: empty `answer`",
        "null_question": "Nulls: empty `question`",
        "null_topic": "Nulls: empty `topic`",
        "exact_duplicate": "Exact duplicates (same question, answer, topic, persona, age_group; new id)",
        "near_duplicate": "Near duplicates (trivially changed question, same answer)",
        "overlong_answer": "Over-long answers (over 200 words of rambling, repeated text)",
        "whitespace": "Stray whitespace",
        "mislabeled_topic": "Mislabeled topic",
        "pii": "PII (fake email / phone number)",
    }
    total = sum(len(v) for v in by_cat.values())
    lines = [
        "# Planted defects in `support_qa.csv`",
        "",
        "Generated by `docs/make_demo.py` (seed 20261122); rerun it rather than editing by hand.",
        f"{total} defect rows are interleaved with the clean rows; every other row is clean",
        "(distinct question, 5-30 word question, 10-60 word answer, correct topic, no PII,",
        "no stray whitespace). Empty fields are written as empty CSV fields, so pandas",
        "reads them as NaN.",
        "",
    ]
    for cat, title in titles.items():
        items = sorted(by_cat[cat], key=lambda t: t[0]["id"])
        lines.append(f"## {title}")
        lines.append("")
        lines.append(f"`{cat}`: " + ", ".join(r["id"] for r, _ in items))
        lines.append("")
        for row, note in items:
            src = row.get("_source")
            extra = f"copy of {src['id']}" if src else ""
            detail = "; ".join(x for x in (extra, note) if x)
            words = f" ({_words(row['answer'])} words)" if cat == "overlong_answer" else ""
            lines.append(f"- {row['id']}: {detail}{words}")
        lines.append("")
    DEFECTS_PATH.write_text("\n".join(lines), encoding="utf-8")


def summary() -> None:
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header == COLUMNS, header
    assert all(len(r) == len(COLUMNS) for r in body), "ragged rows"
    ids = [r[0] for r in body]
    assert len(set(ids)) == len(ids), "duplicate ids"
    print(f"wrote {CSV_PATH.name}: {len(body)} rows, {CSV_PATH.stat().st_size} bytes")
    for col in ("topic", "persona", "age_group"):
        c = Counter(r[COLUMNS.index(col)] for r in body)
        print(f"  {col}: " + ", ".join(f"{k or '<empty>'}={v}" for k, v in sorted(c.items())))


def main() -> None:
    rng = Random(SEED)
    rows, clean, defects = build(rng)
    check_clean(clean)
    assert len(rows) < 400
    write_csv(rows)
    write_defects(defects)
    assert CSV_PATH.stat().st_size < 150_000
    summary()
    print(f"  clean rows: {len(clean)}, defect rows: {len(defects)}")


if __name__ == "__main__":
    main()

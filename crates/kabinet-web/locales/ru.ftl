# Тексты страниц личного кабинета. Идентификаторы одинаковы в ru.ftl и en.ftl.

## Оформление
site-name = Личный кабинет абонента
to-home = На главную
skip-to-content = Перейти к содержимому
account = Лицевой счёт
account-switch = Показать
sign-out = Выйти
sign-in = Вход
register = Регистрация
nav-label = Разделы личного кабинета
nav-overview = Обзор
nav-invoices = Счета
nav-charges = Начисления
nav-payments = Платежи
nav-meters = Счётчики
nav-requests = Заявки
nav-settings = Настройки
nav-help = Помощь
dispatch = Аварийно-диспетчерская служба
phone = Телефон
email = Электронная почта
address = Адрес
rules-link = Правила пользования личным кабинетом
suspended-title = Личный кабинет временно закрыт.
suspended-until = Ожидаем открыть { $when }.
suspension-announced = { $when } личный кабинет будет закрыт на технические работы.
payments-count = { $n ->
    [one] { $n } платёж
    [few] { $n } платежа
   *[many] { $n } платежей
}
months-count = { $n ->
    [one] { $n } месяц
    [few] { $n } месяца
   *[many] { $n } месяцев
}
month-1 = январь
month-2 = февраль
month-3 = март
month-4 = апрель
month-5 = май
month-6 = июнь
month-7 = июль
month-8 = август
month-9 = сентябрь
month-10 = октябрь
month-11 = ноябрь
month-12 = декабрь
month-short-1 = янв
month-short-2 = фев
month-short-3 = мар
month-short-4 = апр
month-short-5 = май
month-short-6 = июн
month-short-7 = июл
month-short-8 = авг
month-short-9 = сен
month-short-10 = окт
month-short-11 = ноя
month-short-12 = дек

## Вход, регистрация, пароль
login-title = Вход
login-heading = Вход в личный кабинет
account-number = Номер лицевого счёта
password = Пароль
login-submit = Войти
forgot-password = Забыли пароль?
register-link = Зарегистрироваться
demo-hint = Это демонстрационная база. Войдите как готовый абонент: лицевой счёт { $account }, пароль { $password }.
register-intro = Укажите номер лицевого счёта и { $hint }. Если данные совпадут, мы пришлём временный пароль на указанную почту.
form-has-errors = Проверьте заполнение формы.
register-accept-rules = Я прочитал(а) и принимаю
register-rules-link = правила пользования личным кабинетом
rules-edition = редакция { $v }
register-consent = Согласен(на) получать информационные сообщения по электронной почте и SMS
register-submit = Зарегистрироваться
already-registered = Уже зарегистрированы?
check-amount-label = Сумма к оплате по последней квитанции, ₽
check-amount-hint = сумму к оплате из последней квитанции
check-amount-example = Например: 3 456,78 — как напечатано в строке «Итого к оплате».
check-passport-label = Серия и номер паспорта владельца счёта
check-passport-hint = серию и номер паспорта владельца счёта
check-passport-example = 10 цифр, например 28 15 123456. Паспорт используется только для проверки и не хранится.
check-mail = Проверьте почту
register-sent-1 = Если указанные данные совпали с данными лицевого счёта, мы отправили временный пароль на указанный адрес электронной почты. Если счёт уже зарегистрирован, письмо об этом получит тот, кто его зарегистрировал, — на свой адрес.
register-sent-2 = Письмо обычно приходит за несколько минут; проверьте также папку «Спам». Если письма нет, проверьте номер счёта и данные из квитанции и попробуйте ещё раз. После нескольких неверных попыток регистрация счёта на время ограничивается; если не получается, обратитесь в организацию.
password-first-title = Придумайте пароль
password-first-intro = Временный пароль из письма больше не действует. Придумайте свой пароль для входа в личный кабинет.
password-change-title = Смена пароля
password-reset-title = Новый пароль
password-reset-intro = Придумайте новый пароль. После сохранения все открытые сеансы завершатся.
password-not-saved = Пароль не сохранён — исправьте ошибки ниже.
current-password = Текущий пароль
new-password = Новый пароль
password-hint = От 8 до 128 символов; лучше 12 и больше. Подойдёт фраза из нескольких слов. Слишком распространённые пароли не принимаются.
new-password-again = Новый пароль ещё раз
password-save = Сохранить пароль
password-changed-title = Пароль изменён
password-changed-text = Новый пароль сохранён. Сеансы на других устройствах завершены.
password-reset-done = Новый пароль сохранён, все сеансы завершены. Войдите с новым паролем.
to-account = К лицевому счёту
reset-sent-1 = Если к лицевому счёту привязан пользователь, на его адрес электронной почты отправлена ссылка для смены пароля. Ссылка действует один час.
reset-sent-2 = Чтобы почтовый ящик не засыпали письмами, по одному счёту отправляется не больше трёх писем в час. Если письма нет, подождите и проверьте папку «Спам».
reset-invalid-title = Ссылка недействительна
reset-invalid-text = Ссылка уже использована или устарела. Запросите новую.
reset-request-title = Восстановление пароля
reset-request-intro = Укажите номер лицевого счёта. Если к нему привязан пользователь, на почту, указанную при регистрации, придёт ссылка для смены пароля.
reset-request-submit = Отправить ссылку
password-change-link = Сменить пароль

## Правила и главная
rules-title = Правила пользования
rules-edition-since = Редакция { $v }, действует с { $date }.
rules-changed = Правила изменились. Чтобы продолжить работу в личном кабинете, примите новую редакцию.
rules-accept = Принимаю правила
rules-earlier = Прежние редакции
rules-none = Организация ещё не опубликовала правила.
rules-version-link = Редакция { $v }: { $title }
home-title = Главная
home-no-org = Данные организации ещё не загружены.
home-intro = Войдите или зарегистрируйтесь по номеру лицевого счёта.

## Обзор
overview-title = Обзор
holder-address = { $holder }, { $address }
balance-debt = К оплате
balance-advance = Аванс (переплата)
balance-zero = Задолженности нет
balance-note = По последним данным организации с учётом поступивших платежей.
current-invoice = Счёт за { $month }
due-date = Оплатить до
to-pay = Сумма к оплате
invoice-status = Состояние
status-unpaid = не оплачен
status-partly_paid = оплачен частично
status-paid = оплачен
status-overdue = просрочен
last-payment = Последний платёж
last-payment-text = { $amount } от { $date }
no-payments = Платежей пока нет.
no-invoices = Счетов пока нет.
pay = Оплатить
pay-soon = Оплата картой в личном кабинете скоро появится. Пока оплатите по QR-коду из квитанции в приложении банка.
readings-window = Показания счётчиков
window-open = Приём показаний открыт до { $date } включительно.
window-closed = Приём показаний откроется { $date }.
requests-open = Заявки
requests-none = Открытых заявок нет.
receipts = Квитанции
receipt-for = Квитанция за { $month }
all-invoices = Все счета

## Счета
invoices-title = Счета
th-period = Месяц
th-charged = Начислено
th-paid = Оплачено
th-total = К оплате
th-status = Состояние
th-receipt = Квитанция
receipt-pdf = PDF
invoice-title = Счёт за { $month }
opening-debt = Долг на начало месяца
opening-advance = Аванс на начало месяца
penalties = Пени
paid-in-period = Оплачено в месяце
total-due = Итого к оплате
due-by = Оплатить до { $date }
th-service = Услуга
th-volume = Объём
th-unit = Ед.
th-tariff = Тариф
th-recalc = Перерасчёт
th-benefits = Льготы
th-line-total = Итого
invoice-payments = Платежи в счёт этого месяца
invoice-no-payments = Платежей в счёт этого месяца пока нет.
download-receipt = Скачать квитанцию (PDF)
back-to-invoices = Все счета

## Начисления
charges-title = Начисления по услугам
range-from = С месяца
range-to = По месяц
range-show = Показать
range-hint = Месяц в виде ГГГГ-ММ, например 2026-01. Не больше 60 месяцев сразу.
charges-empty = За выбранные месяцы начислений нет.
chart-title = Начисления по месяцам
chart-alt = Столбчатая диаграмма начислений с { $from } по { $to }, всего { $total }. Те же данные — в таблице ниже.
total-for-range = Всего за период
month-total = Итого за месяц
download-csv = Скачать CSV
charges-by-month = По месяцам
charges-by-service = По услугам за период

## Платежи
payments-title = Платежи
th-date = Дата
th-amount = Сумма
th-source = Откуда
source-bank = банк
source-cash = касса
source-post = почта
source-portal = личный кабинет
source-other = другое
payment-credited = зачислен
page-of = Страница { $page } из { $pages }
prev-page = Назад
next-page = Вперёд

## Настройки
settings-title = Настройки
saved = Изменения сохранены.
contact-heading = Контакты
email-current = Электронная почта: { $email }
email-change-intro = Чтобы сменить адрес, введите новый и пароль. На новый адрес придёт ссылка — адрес сменится, когда вы её откроете. На прежний адрес придёт уведомление.
email-new = Новый адрес
email-change-submit = Сменить адрес
email-change-sent = Ссылка для подтверждения отправлена на новый адрес. Пока вы её не откроете, письма приходят на прежний.
phone-label = Телефон
phone-hint = Например: +7 912 345-67-89. Можно оставить пустым.
notifications-heading = Уведомления по электронной почте
notify-new_invoice = Новый счёт
notify-payment_received = Платёж зачислен
notify-readings_reminder = Напоминание о показаниях
notify-request_updates = Изменения по заявкам
sms-soon = SMS-уведомления появятся позже.
paperless-label = Не присылать бумажную квитанцию — получать её в личном кабинете
language-label = Язык
language-browser = Как в браузере
settings-save = Сохранить
linked-heading = Мои лицевые счета
linked-intro = Добавьте другой лицевой счёт, чтобы видеть его здесь. Нужно то же проверочное значение, что при регистрации.
linked-primary = счёт для входа
unlink = Убрать
link-submit = Добавить счёт
linked-added = Лицевой счёт добавлен.
linked-removed = Лицевой счёт убран из списка.
my-data-heading = Мои данные
my-data-intro = Всё, что личный кабинет хранит о вас: профиль, счета, согласия, история входов, настройки и отправленные письма — одним файлом JSON.
my-data-download = Скачать мои данные
email-confirm-title = Подтверждение адреса почты
email-confirm-text = Нажмите кнопку, чтобы письма личного кабинета приходили на этот адрес.
email-confirm-submit = Подтвердить адрес
email-confirmed = Адрес почты изменён на { $email }.

## Помощь и разделы, которые скоро появятся
help-title = Помощь
help-contacts = Контакты
help-rules = Правила пользования личным кабинетом
help-rules-current = Действующая редакция
meters-title = Счётчики
meters-soon = Здесь будут ваши счётчики и передача показаний. Раздел скоро появится; сроки приёма показаний — на странице «Обзор».
requests-title = Заявки
requests-soon = Здесь можно будет отправить заявку в аварийно-диспетчерскую службу или организацию. Раздел скоро появится; при аварии звоните по телефону внизу страницы.
